from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Serve Conductor's MCP server. stdio: for a client that starts this command, acting "
        "as --user (or CONDUCTOR_MCP_USER). http: streamable HTTP at /mcp, each request "
        "acting as the user of its 'Authorization: Bearer <API token>'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
        parser.add_argument("--host", default="127.0.0.1", help="http: the address to bind.")
        parser.add_argument("--port", type=int, default=8006, help="http: the port to bind.")
        parser.add_argument(
            "--user", default="", help="stdio: the username to act as (CONDUCTOR_MCP_USER)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["transport"] == "stdio":
            self._serve_stdio(options["user"] or settings.CONDUCTOR_MCP_USER)
        else:
            if options["user"]:
                raise CommandError(
                    "--user applies to stdio: over HTTP each request acts as its token's user."
                )
            self._serve_http(options["host"], options["port"])

    def _serve_stdio(self, username: str) -> None:
        """Stdout carries the protocol only: the SDK points fd 1 at stderr while it serves,
        so stray prints (ours, litellm's, a subprocess's) cannot corrupt it."""
        import anyio

        from apps.mcp.identity import act_as_for_stdio
        from apps.mcp.server import server

        _check_user(username)
        act_as_for_stdio(username)
        anyio.run(server.run_stdio_async)

    def _serve_http(self, host: str, port: int) -> None:
        import uvicorn

        from apps.mcp.http import MCP_PATH, McpApp

        if not 0 < port < 65536:
            raise CommandError(f"--port must be between 1 and 65535, got {port}")
        shown = f"[{host}]" if ":" in host else host
        sys.stderr.write(f"Conductor MCP server: http://{shown}:{port}{MCP_PATH}\n")
        # Django's LOGGING stays in charge (log_config=None); uvicorn's lifespan starts
        # the SDK's session manager.
        config = uvicorn.Config(
            McpApp(), host=host, port=port, log_config=None, lifespan="on", server_header=False
        )
        uvicorn.Server(config).run()


def _check_user(username: str) -> None:
    if not username:
        raise CommandError(
            "The stdio transport acts as one user: pass --user NAME or set CONDUCTOR_MCP_USER."
        )
    user = get_user_model()._default_manager.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user named {username!r} (--user / CONDUCTOR_MCP_USER).")
    if not user.is_active:
        raise CommandError(f"The user {username!r} is inactive: it cannot act over MCP.")
