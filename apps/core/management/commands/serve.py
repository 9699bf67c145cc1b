from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.demo import DemoCredentials, read_credentials, seed_demo
from apps.core.serving import ServeOptions, serve_embedded, serve_processes


class Command(BaseCommand):
    help = (
        "Serve Conductor: the ASGI app (daphne), a Celery worker and celery beat. "
        "Without REDIS_URL all three share one process; with it they run as child processes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--concurrency", type=int, default=4, help="Celery worker threads/processes."
        )
        parser.add_argument("--no-migrate", action="store_true", help="Skip `migrate` at start.")
        parser.add_argument("--no-worker", action="store_true", help="Do not run a Celery worker.")
        parser.add_argument("--no-beat", action="store_true", help="Do not run celery beat.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError(f"--port must be between 1 and 65535, got {options['port']}")
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1")
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        credentials = self._demo_credentials()
        serve_options = ServeOptions(
            host=options["host"],
            port=options["port"],
            concurrency=options["concurrency"],
            worker=not options["no_worker"],
            beat=not options["no_beat"],
        )
        self._print_banner(serve_options, credentials)
        runner = serve_processes if settings.REDIS_URL else serve_embedded
        sys.exit(runner(serve_options))

    def _demo_credentials(self) -> DemoCredentials | None:
        # Production databases never get a demo superuser behind anyone's back.
        if settings.DEBUG and not get_user_model().objects.exists():
            credentials, _ = seed_demo()
            return credentials
        return read_credentials() if settings.DEBUG else None

    def _print_banner(self, options: ServeOptions, credentials: DemoCredentials | None) -> None:
        host = f"[{options.host}]" if ":" in options.host else options.host
        base = f"http://{host}:{options.port}"
        mode = "Redis at REDIS_URL" if settings.REDIS_URL else "embedded (SQLite, no Redis)"
        lines = [
            f"Conductor {settings.VERSION} is starting: {mode}",
            f"  Admin:   {base}/admin/",
            f"  API:     {base}/api/  (docs {base}/api/docs/)",
            f"  Health:  {base}/health",
        ]
        if credentials is not None:
            lines.append(
                f"  Login:   username {credentials.username}  password {credentials.password}"
            )
            lines.append(f"  Token:   {credentials.token}")
        lines.append("Press Ctrl-C to stop.")
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
