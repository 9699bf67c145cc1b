"""Bench-only ASGI app: conductor_site.asgi's application with bench/_rest_urls.py as URLconf.

Served by daphne or uvicorn in bench/rest_throughput.py; the product's URLconf is untouched.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conductor_site.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402

# Before the first request resolves anything; conductor_site.asgi is otherwise unchanged.
settings.ROOT_URLCONF = "bench._rest_urls"

from conductor_site.asgi import application  # noqa: E402

__all__ = ["application"]
