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
