"""A TCP proxy the test controls, between the worker and PostgreSQL, to cut the worker's connections.

Modes:
- `pass`: relay both ways;
- `refuse`: close every relayed connection now, and close new ones as soon as they are accepted (what a
  client sees of a server that is down: the connection ends before the server speaks);
- `hang`: relay nothing any more, in either direction, on the open connections and on new ones; the
  sockets stay open (a network partition: no reset, no FIN, just silence). Silence down to TCP: each
  socket of the proxy drops every packet it gets (a socket filter), so neither the proxy's kernel nor
  any other acknowledges the client's data or answers its keepalive probes, as on a partitioned network
  (a proxy that only stopped relaying would still have its kernel acknowledge, and keepalives could not
  tell). Back to `pass`, the filters go and TCP retransmits what was dropped, unless an end gave up.

The proxy runs its own event loop on a thread, so synchronous tests and tests on the session's loop use
it alike. `connections` counts accepted connections, so a test can see the worker reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any, Literal

Mode = Literal["pass", "refuse", "hang"]
CHUNK = 65536

SO_ATTACH_FILTER, SO_DETACH_FILTER = 26, 27  # linux/asm-generic/socket.h
# one classic BPF instruction, `ret #0`: the socket takes no packet (the kernel neither queues nor acknowledges it)
DROP_ALL = struct.pack("HBBI", 0x06, 0, 0, 0)


def silence(sock: Any, on: bool) -> None:
    """Attach (or detach) the drop-everything filter on one socket; a closed socket is left alone."""
    with contextlib.suppress(OSError):
        if not on:
            sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
            return
        program = ctypes.create_string_buffer(DROP_ALL)  # the kernel copies it at attach
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", 1, ctypes.addressof(program)))


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode: Mode = "pass"
        self.port = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()  # set: data is relayed (created on the proxy's loop below)

    # control, from the test's thread

    def start(self) -> TcpProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def set_mode(self, mode: Mode) -> None:
        asyncio.run_coroutine_threadsafe(self._set_mode(mode), self._loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # on the proxy's loop

    async def _listen(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _set_mode(self, mode: Mode) -> None:
        self.mode = mode
        for writer in list(self._open):
            silence(writer.get_extra_info("socket"), mode == "hang")
        if mode == "pass":
            self._flowing.set()
            return
        self._flowing.clear()
        if mode == "refuse":
            for writer in list(self._open):
                writer.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "refuse":
            writer.transport.abort()
            return
        self._open.add(writer)
        try:
            silence(writer.get_extra_info("socket"), self.mode == "hang")  # hang: accepted, then silence
            await self._flowing.wait()
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                return
            self._open.add(up_writer)
            try:
                await asyncio.gather(self._relay(reader, up_writer), self._relay(up_reader, writer))
            finally:
                self._open.discard(up_writer)
                up_writer.transport.abort()
        finally:
            self._open.discard(writer)
            writer.transport.abort()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                await self._flowing.wait()  # hang: hold what arrived, relay nothing
                if self.mode == "refuse":
                    return
                writer.write(data)
                await writer.drain()
        writer.transport.abort()  # one side ended: end the other, as a TCP connection would

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._open):
            writer.transport.abort()
        self._flowing.set()


@contextlib.contextmanager
def tcp_proxy(upstream_host: str, upstream_port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(upstream_host, upstream_port).start()
    try:
        yield proxy
    finally:
        proxy.stop()
