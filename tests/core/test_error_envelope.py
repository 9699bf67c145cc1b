import pytest

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def assert_envelope(response, status_code: int, code: str) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_an_anonymous_request_gets_401_with_the_envelope(api_client):
    response = api_client.get("/api/me/")

    assert_envelope(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_bad_token_gets_401_with_the_envelope(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api_client.get("/api/me/")

    assert_envelope(response, 401, "authentication_failed")


def test_an_unknown_api_route_gets_404_with_the_envelope(viewer_client):
    response = viewer_client.get("/api/no-such-thing/")

    assert_envelope(response, 404, "not_found")


def test_an_unknown_page_outside_the_api_stays_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_wrong_method_gets_405_with_the_envelope(viewer_client):
    response = viewer_client.delete("/api/me/")

    error = assert_envelope(response, 405, "method_not_allowed")
    assert "DELETE" in error["message"]


def test_a_wrong_method_on_health_gets_405_with_the_envelope(client):
    response = client.post("/health")

    assert_envelope(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET, HEAD"


def test_invalid_input_gets_400_with_field_details(api_client):
    response = api_client.post("/api/auth/token/", {"username": "someone"}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert error["details"] == {"password": ["This field is required."]}


def test_malformed_json_gets_400_with_the_envelope(api_client):
    response = api_client.post(
        "/api/auth/token/", data="{not json", content_type="application/json"
    )

    assert_envelope(response, 400, "parse_error")


def test_wrong_credentials_get_400_and_issue_no_token(api_client, viewer):
    response = api_client.post(
        "/api/auth/token/", {"username": "viewer", "password": "wrong"}, format="json"
    )

    error = assert_envelope(response, 400, "validation_error")
    assert "Unable to log in" in str(error["details"])


def test_right_credentials_return_a_token_that_authenticates(api_client, viewer):
    response = api_client.post(
        "/api/auth/token/", {"username": "viewer", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")

    me = api_client.get("/api/me/")

    assert me.status_code == 200
    assert me.json()["username"] == "viewer"


@pytest.fixture
def strict_login_limit(monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**ScopedRateThrottle.THROTTLE_RATES, "auth": "2/minute"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)


def test_too_many_login_attempts_get_429_with_retry_after(api_client, strict_login_limit):
    for _ in range(2):
        api_client.post("/api/auth/token/", {"username": "x", "password": "y"})

    response = api_client.post("/api/auth/token/", {"username": "x", "password": "y"})

    error = assert_envelope(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert error["details"]["retry_after"] > 0


def test_a_forged_forwarded_for_header_does_not_dodge_the_login_limit(
    api_client, strict_login_limit
):
    statuses = [
        api_client.post(
            "/api/auth/token/",
            {"username": "x", "password": "y"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        ).status_code
        for attempt in range(3)
    ]

    assert statuses == [400, 400, 429]
