import pytest
from django.test import override_settings

from tests.services import free_port, redis_url

pytestmark = pytest.mark.django_db(transaction=True)


PUBSUB_LAYER = "apps.streams.layers.PubSubChannelLayer"  # the default with REDIS_URL
CORE_LAYER = "channels_redis.core.RedisChannelLayer"
both_redis_layers = pytest.mark.parametrize("backend", [PUBSUB_LAYER, CORE_LAYER])


def redis_everywhere(url: str, backend: str = PUBSUB_LAYER) -> dict:
    """The settings that REDIS_URL switches on, pointed at ``url``."""
    return {
        "REDIS_URL": url,
        "CELERY_BROKER_URL": url,
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": backend,
                "CONFIG": {"hosts": [url]},
            }
        },
        "CONDUCTOR_HEALTH_TIMEOUT": 1.0,
    }


def test_health_reports_every_dependency_and_the_endpoints(client):
    response = client.get("/health")

    assert response.status_code == 200
    body = response.json()
    assert body["service"] == "conductor"
    assert body["version"]
    assert set(body["endpoints"]) >= {"api", "docs", "mcp", "health"}
    assert set(body["checks"]) == {"database", "channel_layer", "broker", "workers"}
    for name in ("database", "channel_layer", "broker"):
        assert body["checks"][name]["ok"] is True, body["checks"][name]


def test_health_without_a_worker_is_degraded_but_up(client):
    # No worker runs inside the test process.
    response = client.get("/health")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["failing"] == ["workers"]
    assert "no Celery worker" in body["checks"]["workers"]["detail"]


def test_health_turns_503_when_workers_are_required_and_absent(client, settings):
    settings.CONDUCTOR_HEALTH_REQUIRE_WORKERS = True

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "workers" in response.json()["failing"]


@both_redis_layers
def test_health_turns_503_naming_redis_when_redis_is_configured_but_unreachable(client, backend):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"

    with override_settings(**redis_everywhere(dead_redis, backend)):
        response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert {"channel_layer", "broker"} <= set(body["failing"])
    assert "Redis" in body["checks"]["channel_layer"]["detail"]
    assert "Redis" in body["checks"]["broker"]["detail"]
    assert body["checks"]["database"]["ok"] is True


def test_health_never_shows_the_redis_password(client):
    dead_redis = f"redis://:hunter2secret@127.0.0.1:{free_port()}/0"

    with override_settings(**redis_everywhere(dead_redis)):
        response = client.get("/health")

    assert "hunter2secret" not in response.content.decode()


@pytest.mark.redis
@both_redis_layers
def test_health_is_ok_against_a_live_redis(client, backend):
    with override_settings(**redis_everywhere(redis_url(), backend)):
        response = client.get("/health")

    body = response.json()
    assert body["checks"]["channel_layer"]["ok"] is True, body
    assert body["checks"]["channel_layer"]["detail"] == (f"{backend.rpartition('.')[2]} round trip")
    assert body["checks"]["broker"]["ok"] is True, body
    assert "Redis" in body["checks"]["broker"]["detail"]


@pytest.mark.redis
async def test_repeated_health_checks_leave_no_channel_subscribed_on_the_pubsub_layer():
    from channels.layers import channel_layers

    from apps.core.health import check_channel_layer

    with override_settings(**redis_everywhere(redis_url(), PUBSUB_LAYER)):
        layer = channel_layers["default"]
        try:
            for _ in range(5):
                assert await check_channel_layer() == "PubSubChannelLayer round trip"
            loop_layer = layer._get_layer()
            # Each check subscribed a channel of its own; none may stay behind.
            assert loop_layer.channels == {}
            assert all(not shard._subscribed_to for shard in loop_layer._shards)
        finally:
            await layer.flush()
