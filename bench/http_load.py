"""A lean HTTP/1.1 load generator: keep-alive connections on asyncio streams, responses parsed by httptools
(uvicorn's C parser). The load generator shares the machine's two cores with the system it measures, so
it should spend as little of them as it can (measured: about half the CPU of aiohttp per episode)."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httptools


class HttpError(RuntimeError):
    pass


class _Response:
    def __init__(self) -> None:
        self.body = bytearray()
        self.complete = False

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    async def post_json(self, path: str, body: dict, headers: dict[str, str]) -> dict:
        payload = json.dumps(body, separators=(",", ":")).encode()
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nhost: {self.host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(payload)}\r\n{head}\r\n".encode()
            + payload
        )
        response = _Response()
        parser = httptools.HttpResponseParser(response)
        while not response.complete:
            chunk = await self.reader.read(65536)
            if not chunk:
                raise HttpError(f"{path}: the server closed the connection")
            parser.feed_data(chunk)
        status = parser.get_status_code()
        if status >= 400:
            raise HttpError(f"{path}: {status} {response.body.decode(errors='replace')}")
        return json.loads(response.body)

    def close(self) -> None:
        self.writer.close()


class ConnectionPool:
    """At most `size` keep-alive connections to one server, opened on first use."""

    def __init__(self, base_url: str, size: int) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.size = size
        self.idle: asyncio.Queue[Connection] = asyncio.Queue()
        self.opened: list[Connection] = []

    @asynccontextmanager
    async def connection(self):
        if self.idle.empty() and len(self.opened) < self.size:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened.append(Connection(reader, writer, f"{self.host}:{self.port}"))
            connection = self.opened[-1]
        else:
            connection = await self.idle.get()
        try:
            yield connection
        except BaseException:
            connection.close()
            self.opened.remove(connection)
            raise
        self.idle.put_nowait(connection)

    def close(self) -> None:
        for connection in self.opened:
            connection.close()
