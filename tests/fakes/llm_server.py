"""A scripted, OpenAI-compatible chat-completions server on loopback.

Tests queue replies with `FakeLLMServer.script(...)`; each POST to
`/v1/chat/completions` pops the next one, so litellm's real client code runs
unchanged against a predictable conversation. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from tests.fakes.llm_bodies import JSON, completion_body, error_body, stream_chunks
from tests.fakes.llm_replies import (
    Error,
    RawHTTP,
    Reply,
    Slow,
    Stall,
    Text,
    ToolCall,
    ToolCalls,
    error,
    malformed,
    raw_http,
    slow,
    stall,
    text,
    tool_call,
    tool_calls,
)

__all__ = [
    "NO_REPLY_LEFT",
    "Error",
    "FakeLLMServer",
    "RawHTTP",
    "Reply",
    "Slow",
    "Stall",
    "Text",
    "ToolCall",
    "ToolCalls",
    "error",
    "malformed",
    "raw_http",
    "slow",
    "stall",
    "text",
    "tool_call",
    "tool_calls",
]

NO_REPLY_LEFT = "fake LLM: no scripted reply left"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeLLMServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        if self.path.split("?")[0].rstrip("/") != "/v1/chat/completions":
            self._send_json(404, error_body(error(404, f"fake LLM: no route {self.path}")))
            return
        request = self._read_json()
        reply = self.server.fake._take(request)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
            self._answer(reply, request, per_chunk_delay=0.0)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_json(self) -> JSON:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            return json.loads(raw)
        except ValueError:
            return {"_unparsed": raw.decode(errors="replace")}

    def _answer(self, reply: Reply, request: JSON, *, per_chunk_delay: float) -> None:
        if isinstance(reply, Slow):
            if not self._wait(reply.seconds):
                self._answer(reply.reply, request, per_chunk_delay=reply.per_chunk_delay)
        elif isinstance(reply, Error):
            self._send_error(reply)
        elif isinstance(reply, RawHTTP):
            self._send_bytes(reply.status, reply.body, reply.content_type)
        elif isinstance(reply, Stall):
            stalled = (reply.after_chunks, reply.seconds)
            self._send_stream(stream_chunks(reply.reply, request), 0.0, stall=stalled)
        elif request.get("stream"):
            self._send_stream(stream_chunks(reply, request), per_chunk_delay)
        else:
            self._send_json(200, completion_body(reply, request))

    def _wait(self, seconds: float) -> bool:
        """Sleeps; True if the server began stopping meanwhile (the connection is then dropped)."""
        stopped = seconds > 0 and self.server.fake._stopping.wait(seconds)
        if stopped:
            self.close_connection = True
        return stopped

    def _send_error(self, reply: Error) -> None:
        headers = {} if reply.retry_after is None else {"Retry-After": f"{reply.retry_after:g}"}
        self._send_json(reply.status, error_body(reply), headers)

    def _send_json(self, status: int, body: JSON, headers: Mapping[str, str] = {}) -> None:
        self._send_bytes(status, json.dumps(body).encode(), "application/json", headers)

    def _send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] = {},
    ) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Type": content_type}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _send_stream(
        self,
        chunks: Iterator[JSON],
        per_chunk_delay: float,
        *,
        stall: tuple[int, float] = (-1, 0.0),
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        stall_at, stall_seconds = stall
        for sent, chunk in enumerate(chunks):
            if self._wait(stall_seconds if sent == stall_at else per_chunk_delay):
                return
            self._write_event(json.dumps(chunk))
        self._write_event("[DONE]")

    def _write_event(self, data: str) -> None:
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()


class FakeLLMServer:
    """Serves scripted replies on 127.0.0.1 from a background thread.

    An empty script answers HTTP 500 (`NO_REPLY_LEFT`) so a test never hangs.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: deque[Reply] = deque()
        self._requests: list[JSON] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._stopping.clear()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeLLMServer is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def requests(self) -> list[JSON]:
        """A snapshot of the request bodies received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """How many scripted replies have not been served yet."""
        with self._lock:
            return len(self._replies)

    def script(self, *replies: Reply) -> Self:
        with self._lock:
            self._replies.extend(replies)
        return self

    def reset(self) -> None:
        with self._lock:
            self._replies.clear()
            self._requests.clear()

    def _take(self, request: JSON) -> Reply:
        with self._lock:
            self._requests.append(request)
            if self._replies:
                return self._replies.popleft()
        return error(500, NO_REPLY_LEFT)
