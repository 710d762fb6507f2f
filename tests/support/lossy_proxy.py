"""A TCP proxy in front of the server under test that can lose answers.

`LossyProxy` relays bytes both ways and reads the server's side as HTTP/2 frames. The first
`lose` times the server starts to answer an RPC (a HEADERS frame on a stream: the handler has
finished, so a create has committed), it drops the connection instead of relaying the answer:
the work is done on the server, and the client sees the call fail with UNAVAILABLE, as when a
network or a server process dies between commit and reply."""

from __future__ import annotations

import asyncio
import contextlib

_HEADERS = 0x1


class LossyProxy:
    def __init__(self, upstream_port: int, *, lose: int = 1) -> None:
        self.upstream_port = upstream_port
        self.lose = lose
        self.lost = 0
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> LossyProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        up = asyncio.create_task(self._pipe(client_reader, server_writer))
        down = asyncio.create_task(self._frames(server_reader, client_writer))
        for task in (up, down):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
        for writer in (client_writer, server_writer):
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _frames(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                header = await reader.readexactly(9)
                length = int.from_bytes(header[:3], "big")
                frame_type = header[3]
                stream = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
                payload = await reader.readexactly(length)
                if frame_type == _HEADERS and stream != 0 and self.lost < self.lose:
                    self.lost += 1
                    writer.transport.abort()
                    return
                writer.write(header + payload)
                await writer.drain()
