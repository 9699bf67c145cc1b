"""The budget lives in Redis: a second process sees what this one spent."""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import override_settings

from tests.portfolio.conftest import chat
from tests.services import redis_url
from tests.subprocesses import child_env, manage

pytestmark = pytest.mark.redis

CLIENT = "198.51.100.42"
REDIS_DB = 13
# Run by `manage.py shell` in a fresh process: its own settings, cache and connections.
CHILD_REQUEST = """
import json, os
from django.test import Client, override_settings
with override_settings(CACHES=json.loads(os.environ["TEST_CACHES"])):
    response = Client().post(
        "/api/portfolio/chat/", {}, content_type="application/json",
        HTTP_HOST="localhost", REMOTE_ADDR=os.environ["TEST_CLIENT_IP"],
    )
print("RESULT", json.dumps({"status": response.status_code, "retry": response.get("Retry-After")}))
"""


def redis_caches() -> dict:
    """A cache of this test's own: other test runs sharing the Redis clear theirs with
    FLUSHDB, which empties a whole database, so this one uses another database (and prefix)."""
    location = urlunsplit(urlsplit(redis_url())._replace(path=f"/{REDIS_DB}"))
    prefix = f"conductor-test-{uuid.uuid4().hex}"
    backend = "django.core.cache.backends.redis.RedisCache"
    return {"default": {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": prefix}}


def test_the_limit_holds_across_processes(visitor, tmp_path):
    caches = redis_caches()
    with override_settings(CACHES=caches):
        spent = [chat(visitor, {}, REMOTE_ADDR=CLIENT).status_code for _ in range(20)]
        env = child_env(tmp_path, TEST_CACHES=json.dumps(caches), TEST_CLIENT_IP=CLIENT)
        child = manage("shell", "-c", CHILD_REQUEST, env=env)
        from django.core.cache import cache

        cache.delete(f"throttle_portfolio_{CLIENT}")  # clear() would flush the whole database

    assert spent == [400] * 20
    assert child.returncode == 0, child.stderr
    (line,) = [line for line in child.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    assert result["status"] == 429, child.stdout
    assert int(result["retry"]) > 0
