from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.core.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo user and demo content. Safe to run more than once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            help="Password for a new demo user (default: CONDUCTOR_DEMO_PASSWORD, else random).",
        )

    def handle(self, *args: Any, password: str | None = None, **options: Any) -> None:
        credentials, created = seed_demo(password=password)
        verb = "Created" if created else "Kept existing"
        if credentials is None:
            self.stdout.write(f"{verb} demo user; its password was set elsewhere.")
            return
        self.stdout.write(
            f"{verb} demo user {credentials.username!r} "
            f"(password {credentials.password}, API token {credentials.token})."
        )
