"""Generated from proto/catapult/v1 by `make generate`: messages (*_pb2) and gRPC stubs (*_pb2_grpc)."""
