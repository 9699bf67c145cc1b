import pytest
from django.core.exceptions import ImproperlyConfigured

from conductor_site.env import env_bool, env_float, env_int, env_list
from tests.subprocesses import PRODUCTION_ENV, child_env, manage


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = child_env(tmp_path, DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deploy_check_with_no_warnings(tmp_path):
    env = child_env(tmp_path, **PRODUCTION_ENV)

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_a_malformed_boolean_names_the_variable(tmp_path):
    result = manage("check", env=child_env(tmp_path, DJANGO_DEBUG="maybe"))

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


def test_an_unsupported_database_url_names_the_variable(tmp_path):
    result = manage("check", env=child_env(tmp_path, DATABASE_URL="mysql://root@localhost/db"))

    assert result.returncode != 0
    assert "DATABASE_URL must be a postgresql:// or sqlite:// URL" in result.stderr


def test_a_garbage_database_url_names_the_variable(tmp_path):
    result = manage("check", env=child_env(tmp_path, DATABASE_URL="not a url at all"))

    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


@pytest.mark.parametrize(
    ("reader", "raw", "message"),
    [
        (lambda: env_int("X_INT", 1), "ten", "X_INT must be an integer, got 'ten'"),
        (lambda: env_int("X_INT", 1, minimum=1), "0", "X_INT must be at least 1, got 0"),
        (lambda: env_float("X_INT", 1.0), "fast", "X_INT must be a number, got 'fast'"),
        (lambda: env_bool("X_INT", True), "2", "X_INT must be a boolean"),
    ],
)
def test_typed_helpers_name_the_bad_variable(monkeypatch, reader, raw, message):
    monkeypatch.setenv("X_INT", raw)

    with pytest.raises(ImproperlyConfigured, match=message):
        reader()


def test_typed_helpers_fall_back_to_defaults_and_parse_lists(monkeypatch):
    monkeypatch.delenv("X_LIST", raising=False)
    assert env_list("X_LIST", ["a"]) == ["a"]
    monkeypatch.setenv("X_LIST", " a.example , b.example ,")
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    monkeypatch.setenv("X_BOOL", "Off")
    assert env_bool("X_BOOL", True) is False


def test_postgres_urls_use_psycopgs_pool_without_persistent_connections():
    from conductor_site.settings import _database_from_url

    config = _database_from_url("postgresql://conductor:pw@db.internal:5432/conductor")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["OPTIONS"]["pool"] == {"timeout": 10.0}
    # Each pooled connection is checked before use: a database restart costs no request.
    assert config["CONN_HEALTH_CHECKS"] is True
    assert config["CONN_MAX_AGE"] == 0
    assert config["HOST"] == "db.internal"


def test_the_embedded_default_allows_only_local_hosts(tmp_path):
    script = "from django.conf import settings; print(settings.ALLOWED_HOSTS)"

    result = manage("shell", "-c", script, env=child_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['localhost', '127.0.0.1', '[::1]']"


@pytest.mark.postgres
def test_a_postgres_database_url_connects_through_the_pool(tmp_path):
    from tests.services import postgres_url

    script = (
        "from django.db import connection; connection.ensure_connection(); "
        "print(connection.vendor, connection.pool is not None, "
        "connection.settings_dict['CONN_MAX_AGE'])"
    )

    result = manage("shell", "-c", script, env=child_env(tmp_path, DATABASE_URL=postgres_url()))

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "postgresql True 0"
