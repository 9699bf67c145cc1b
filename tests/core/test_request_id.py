import io
import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from apps.core.context import run_id_var
from apps.core.logging import ContextFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """Root-logger output formatted exactly as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(run_id)s")
    )
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_every_response_carries_a_generated_request_id(client):
    first = client.get("/health")
    second = client.get("/health")

    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_safe_incoming_request_id_is_echoed(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="edge-1234.abc")

    assert response["X-Request-ID"] == "edge-1234.abc"


def test_an_unsafe_incoming_request_id_is_replaced(client):
    response = client.get("/health", HTTP_X_REQUEST_ID='evil"\n{"level":"CRITICAL"}')

    assert response["X-Request-ID"] != 'evil"\n{"level":"CRITICAL"}'
    assert len(response["X-Request-ID"]) == 32


def test_the_request_log_line_carries_the_request_id_as_json(client, json_log):
    response = client.get("/api/missing/", HTTP_X_REQUEST_ID="trace-42")

    lines = [line for line in json_log() if line["name"] == "django.request"]
    assert response.status_code in {401, 404}
    assert lines, "Django logged no line for the failed request"
    assert {line["request_id"] for line in lines} == {"trace-42"}


def test_log_lines_inside_a_run_carry_the_run_id(json_log):
    token = run_id_var.set("run-7")
    try:
        logging.getLogger("apps.runtime").warning("step failed")
    finally:
        run_id_var.reset(token)

    (line,) = [line for line in json_log() if line["message"] == "step failed"]
    assert line["run_id"] == "run-7"
