"""The Catapult registry server: grpc.aio servicers over PostgreSQL."""

__version__ = "0.1.0"
