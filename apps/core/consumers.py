from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from apps.core.parsers import loads_bounded

# Application close codes: 4xxx mirror the HTTP status they stand for.
CLOSE_UNAUTHENTICATED = 4401
# 1009 "message too big", in the application range: daphne (autobahn) refuses to send
# codes under 3000 for the application.
CLOSE_MESSAGE_TOO_BIG = 4009


def message_too_big(text_data: str | None, bytes_data: bytes | None) -> bool:
    """Whether a client message exceeds ``CONDUCTOR_WS_MAX_MESSAGE_BYTES``."""
    limit = settings.CONDUCTOR_WS_MAX_MESSAGE_BYTES
    size = len(bytes_data or b"") + len((text_data or "").encode())
    return size > limit


def decode_message(text_data: str | None) -> Any:
    """The message's JSON, or None when it is not JSON (or nests too deeply) or not text."""
    if text_data is None:
        return None
    try:
        return loads_bounded(text_data)
    except ValueError:
        return None


class PingConsumer(AsyncJsonWebsocketConsumer):
    """``/ws/ping/``: lets a client check its WebSocket connectivity and credentials."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.accept()
        await self.send_json({"type": "connected", "user": user.get_username()})

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if message_too_big(text_data, bytes_data):
            await self.close(code=CLOSE_MESSAGE_TOO_BIG)
            return
        await self.receive_json(decode_message(text_data))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "error": {"code": "unknown_message"}})
