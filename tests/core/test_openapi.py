import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_describes_the_api(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/me/" in schema["paths"]
    assert "/api/auth/token/" in schema["paths"]


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_render_in_development(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert b"/api/schema/" in response.content


def test_the_admin_is_titled_conductor(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert b"Conductor" in response.content


def test_every_error_an_operation_can_answer_is_the_documented_envelope(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    envelope = {"$ref": "#/components/schemas/Error"}

    agent = schema["paths"]["/api/agents/{slug}/"]["delete"]["responses"]
    chat = schema["paths"]["/api/portfolio/chat/"]["post"]["responses"]

    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]
    # 401/403/404 from the shared rules, 409 from the view's own annotation.
    for status in ("401", "403", "404", "409"):
        assert agent[status]["content"]["application/json"]["schema"] == envelope
    # A public endpoint: no credentials to refuse, but a rate limit.
    assert "401" not in chat
    assert chat["429"]["content"]["application/json"]["schema"] == envelope
