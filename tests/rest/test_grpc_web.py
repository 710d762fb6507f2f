"""gRPC-Web, what browsers speak, on the same port: a POST of length-prefixed frames to the gRPC
path, answered with the response's frames and a trailer frame carrying grpc-status."""

from __future__ import annotations

from catapult.v1 import model_pb2, model_service_pb2
from tests.support.rest import Reply, Rest

GRPC_WEB = {"Content-Type": "application/grpc-web+proto", "X-Grpc-Web": "1"}
TRAILER_FLAG = 0x80


def frame(message: bytes) -> bytes:
    """A gRPC-Web data frame: flag byte 0, a 4-byte big-endian length, the message."""
    return b"\x00" + len(message).to_bytes(4, "big") + message


def read_frames(reply: Reply) -> tuple[list[bytes], dict[str, str]]:
    """The messages of a gRPC-Web response and its trailers (from the trailer frame, or from
    the HTTP headers of a trailers-only response)."""
    messages: list[bytes] = []
    trailers = {k: v for k, v in reply.headers.items() if k.startswith("grpc-")}
    body, i = reply.body, 0
    while i < len(body):
        flags, length = body[i], int.from_bytes(body[i + 1 : i + 5], "big")
        payload = body[i + 5 : i + 5 + length]
        assert len(payload) == length, f"truncated frame in {body!r}"
        if flags & TRAILER_FLAG:
            for line in payload.decode().split("\r\n"):
                if line:
                    name, _, value = line.partition(":")
                    trailers[name.strip().lower()] = value.strip()
        else:
            messages.append(payload)
        i += 5 + length
    return messages, trailers


async def test_a_grpc_web_call_gets_framed_messages_and_grpc_status(rest: Rest) -> None:
    created = await rest.ok("POST", "/api/v1/models", {"name": "via-grpc-web", "storage_path": "s3://w/"})
    request = model_service_pb2.GetModelRequest(id=created["id"]).SerializeToString()

    reply = await rest.post("/catapult.v1.ModelService/GetModel", frame(request), headers=GRPC_WEB)
    assert reply.status == 200, str(reply)
    assert reply.headers["content-type"].startswith("application/grpc-web"), str(reply)
    messages, trailers = read_frames(reply)
    assert trailers["grpc-status"] == "0", trailers
    (message,) = messages
    assert model_pb2.Model.FromString(message).name == "via-grpc-web"


async def test_grpc_web_errors_keep_grpcs_form(rest: Rest) -> None:
    request = model_service_pb2.ListModelsRequest().SerializeToString()
    no_key = await rest.post("/catapult.v1.ModelService/ListModels", frame(request), headers=GRPC_WEB, key="")
    messages, trailers = read_frames(no_key)
    assert (no_key.status, messages, trailers["grpc-status"]) == (200, [], "16"), str(
        no_key
    )  # UNAUTHENTICATED
    assert "grpc-status-details-bin" in trailers, "the server's ErrorInfo is lost"

    # No such method: Envoy's own reply, still gRPC (not the JSON REST clients get).
    unknown = await rest.post("/catapult.v1.ModelService/NoSuchMethod", frame(b""), headers=GRPC_WEB)
    messages, trailers = read_frames(unknown)
    assert trailers["grpc-status"] == "12", str(unknown)  # UNIMPLEMENTED
    assert not unknown.body.lstrip().startswith(b"{"), str(unknown)
