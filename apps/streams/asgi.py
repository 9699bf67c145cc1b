"""Django's ASGI handler, without the thread each open event stream would hold.

Django serves every request inside a ``ThreadSensitiveContext`` of its own. The first sync
call of a request (there always is one: the ``request_started`` signal's
``close_old_connections``) starts a thread for that context, and the thread lives until the
response ends. For a server-sent event stream that is a thread per open stream, for hours,
and most of its memory (bench/idle_streams.py).

Views marked :func:`long_lived` are served outside such a context: their few sync calls
(authentication, the database reads of :mod:`apps.streams.follow`) share the process's one
thread-sensitive thread, as Channels consumers' calls do. Every other request is served
exactly as Django serves it.

Every request also crosses into a thread once, not once per middleware: Django runs an
async-capable ``MiddlewareMixin`` under ASGI by hopping to a thread for each of its hooks
(``process_request``, ``process_view``, ``process_response``), about twenty hand-offs
between the event loop and a thread per request with our middleware. Here the whole chain is
built in its sync mode and entered in one ``sync_to_async`` call; an async view (the event
streams, ``/health``) runs back on the event loop through ``async_to_sync``, as it would
under a sync-only middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.urls import Resolver404, get_resolver

View = TypeVar("View", bound=Callable[..., Any])


def long_lived(view: View) -> View:
    """Marks a view whose response streams for as long as the client stays."""
    view.long_lived_stream = True  # type: ignore[attr-defined]
    return view


def is_long_lived(path: str) -> bool:
    try:
        match = get_resolver().resolve(path)
    except Resolver404:
        return False
    return getattr(match.func, "long_lived_stream", False)


class StreamsASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        sync_chain = self._middleware_chain  # type: ignore[has-type]  # set by the call above
        self._middleware_chain = sync_to_async(sync_chain, thread_sensitive=True)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_long_lived(_path_info(scope)):
            await self.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _path_info(scope: dict[str, Any]) -> str:
    """The path Django resolves: ``path`` without the ``root_path`` it is mounted under."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path
