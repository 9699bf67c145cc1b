import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from apps.core.demo import credentials_path, read_credentials

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_a_superuser_that_can_log_in(client, capsys):
    call_command("seed_demo")

    credentials = read_credentials()
    assert credentials is not None
    assert credentials.password in capsys.readouterr().out
    assert client.login(username=credentials.username, password=credentials.password)
    assert client.get("/admin/").status_code == 200


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    first = read_credentials()
    call_command("seed_demo")
    second = read_credentials()

    assert get_user_model().objects.filter(username="demo").count() == 1
    assert Token.objects.filter(user__username="demo").count() == 1
    assert first == second
    assert "Kept existing demo user" in capsys.readouterr().out


def test_seed_demo_never_resets_a_password_an_editor_changed(client):
    call_command("seed_demo")
    user = get_user_model().objects.get(username="demo")
    user.set_password("changed by the editor 123")
    user.save()

    call_command("seed_demo")

    assert client.login(username="demo", password="changed by the editor 123")


def test_the_credentials_file_is_readable_by_its_owner_only():
    call_command("seed_demo")

    mode = stat.S_IMODE(credentials_path().stat().st_mode)
    assert mode == 0o600


def test_the_demo_password_can_come_from_the_environment(monkeypatch, client):
    monkeypatch.setenv("CONDUCTOR_DEMO_PASSWORD", "a chosen demo password")

    call_command("seed_demo")

    assert client.login(username="demo", password="a chosen demo password")
