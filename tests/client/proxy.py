"""A TCP proxy that drops event streams from the server's side, for reconnect tests."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from types import TracebackType
from typing import Self

EVENT_FRAME = re.compile(rb"(?:^|\n)id: \d+\n.*?\n\n", re.DOTALL)


class CuttingProxy:
    """Forwards 127.0.0.1:<port> to ``upstream_port``.

    The first ``cuts`` SSE responses are cut after ``after_events`` event frames, halfway
    through the next one, as a server or load balancer dropping the connection would.
    Everything else passes through untouched. ``cut`` counts the streams cut so far.
    """

    def __init__(self, upstream_port: int, *, after_events: int = 3, cuts: int = 1) -> None:
        self.upstream_port = upstream_port
        self.after_events = after_events
        self.cuts_left = cuts
        self.cut = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            _close(*self._sockets)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._serve, args=(client, upstream), daemon=True).start()

    def _serve(self, client: socket.socket, upstream: socket.socket) -> None:
        """Keep-alive connections carry several requests: each response is looked at."""
        streaming = threading.Event()
        threading.Thread(
            target=_forward_requests, args=(client, upstream, streaming), daemon=True
        ).start()
        cutting, received = False, b""
        with contextlib.suppress(OSError):
            while data := upstream.recv(65536):
                if not cutting and streaming.is_set():
                    streaming.clear()
                    cutting = self._take_cut()
                if not cutting:
                    client.sendall(data)
                    continue
                sent, received = len(received), received + data
                cut_at = self._cut_point(received)
                client.sendall(received[sent:cut_at])
                if cut_at is not None:
                    self._count_cut()
                    break
        _close(client, upstream)

    def _take_cut(self) -> bool:
        with self._lock:
            if self.cuts_left <= 0:
                return False
            self.cuts_left -= 1
            return True

    def _count_cut(self) -> None:
        with self._lock:
            self.cut += 1

    def _cut_point(self, received: bytes) -> int | None:
        """Halfway through the frame after the first ``after_events`` ones, once it is in."""
        frames = list(EVENT_FRAME.finditer(received))
        if len(frames) <= self.after_events:
            return None
        last_kept, next_frame = frames[self.after_events - 1], frames[self.after_events]
        return last_kept.end() + (next_frame.end() - last_kept.end()) // 2


def _forward_requests(
    client: socket.socket, upstream: socket.socket, streaming: threading.Event
) -> None:
    with contextlib.suppress(OSError):
        while data := client.recv(65536):
            if data.startswith(b"GET ") and b"/events/" in data.split(b"\r\n", 1)[0]:
                streaming.set()
            upstream.sendall(data)
    _close(client, upstream)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
