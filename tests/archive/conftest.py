from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from apps.agents.models import Agent
from apps.personas import services as persona_services
from apps.personas.models import Persona
from apps.screenplays import services as screenplay_services
from apps.screenplays.models import Screenplay
from tests.factories import AgentFactory, PersonaFactory, UserFactory
from tests.services import postgres_url

SECOND_DATABASE = "archive_copy"


@pytest.fixture
def team(db, staff, editor):
    """Agents, personas with several versions by several users, and screenplays (one deleted)."""
    author = UserFactory(username="persona-author")
    voice = PersonaFactory(name="Voice", content="v1", author=author, change_reason="first")
    persona_services.persona_update(
        persona=voice, actor=editor, content="v2\n", change_reason="clearer"
    )
    persona_services.persona_update(
        persona=voice, actor=staff, metadata={"tone": "dry", "n": [1, 2]}, change_reason=None
    )
    pruned = PersonaFactory(name="Pruned", content="a", author=author)
    for text in ("b", "c", "d"):
        persona_services.persona_update(persona=pruned, actor=editor, content=text)
    persona_services.persona_versions_cleanup(persona=pruned, keep=2, actor=staff)
    plain = PersonaFactory(name="Plain", content="only one version", author=author)

    reviewer = AgentFactory(
        slug="reviewer",
        name="Reviewer",
        emoji="🔍",
        description="Reviews pull requests carefully.",
        group="code",
        tags=["code", "review"],
        persona=voice,
        model="anthropic/claude-haiku-4-5",
        fallback_models=["gpt-4o-mini"],
        tools=["web_fetch", "code_run"],
        pre_approved_tools=["code_run"],
        mcp_configs={"servers": {"fs": {"command": "mcp-fs", "args": ["/srv"]}}},
        max_steps=7,
        is_active=False,
    )
    loner = AgentFactory(slug="loner", persona=None)

    guide = screenplay_services.screenplay_create(
        name="Guide",
        content="# Guide\n\nFirst.\n",
        description="The guide",
        tags=["docs"],
        working_directory="/srv/project",
        file_path="docs/guide.md",
        import_path="in/guide.md",
        export_path="out/guide.md",
    )
    guide = screenplay_services.screenplay_update(
        screenplay=guide, data={"content": "# Guide\n\nSecond.\n"}
    )
    guide = screenplay_services.screenplay_mark_used(screenplay=guide)
    gone = screenplay_services.screenplay_create(name="Gone", content="# Gone\n\nOld.\n")
    screenplay_services.screenplay_soft_delete(screenplay=gone)
    return SimpleNamespace(
        personas=[voice, pruned, plain],
        agents=[reviewer, loner],
        screenplays=[guide, Screenplay.all_objects.get(pk=gone.pk)],
    )


def wipe() -> None:
    """Removes every agent, persona (and its history) and screenplay."""
    Agent.objects.all().delete()
    Persona.objects.all().delete()
    Persona.history.all().delete()
    Screenplay.all_objects.all().delete()


def without_created_at(archive: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in archive.items() if key != "created_at"}


def version_numbers(archive: dict[str, Any]) -> dict[str, list[int]]:
    return {
        persona["name"]: [version["version"] for version in persona["history"]]
        for persona in archive["personas"]
    }


def minimal_archive(**lists: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "format": "conductor-archive",
        "version": 1,
        "created_at": timezone.now().isoformat(),
        "agents": lists.get("agents", []),
        "personas": lists.get("personas", []),
        "screenplays": lists.get("screenplays", []),
    }


# --- a second database ----------------------------------------------------------------------


def second_database_config(kind: str, directory: Any) -> dict[str, Any]:
    """The alias as CONDUCTOR_EXTRA_DATABASES would configure it, with its own test database."""
    from conductor_site.settings import _extra_databases

    url = f"sqlite:///{directory / 'copy.db'}" if kind == "sqlite" else postgres_url()
    config = _extra_databases([f"{SECOND_DATABASE}={url}"], {"default"})[SECOND_DATABASE]
    test_name = (
        str(directory / "test-copy.db")
        if kind == "sqlite"
        else f"test_conductor_archive_copy_{os.getpid()}"
    )
    config["TEST"] = {"NAME": test_name}
    return config


def add_alias(alias: str, config: dict[str, Any]) -> None:
    connections.settings[alias] = config
    connections.configure_settings(connections.settings)


def remove_alias(alias: str) -> None:
    connection = connections[alias]
    connection.close()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()
    del connections[alias]
    del connections.settings[alias]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def second_database(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """A second, migrated database alias (SQLite, and PostgreSQL when reachable).

    Configured at run time as the settings configure CONDUCTOR_EXTRA_DATABASES; tests
    reach it with ``@pytest.mark.django_db(databases=["default", SECOND_DATABASE])``.
    """
    add_alias(SECOND_DATABASE, second_database_config(request.param, tmp_path_factory.mktemp("db")))
    creation = connections[SECOND_DATABASE].creation
    with django_db_blocker.unblock():
        old_name = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    yield SECOND_DATABASE
    with django_db_blocker.unblock():
        creation.destroy_test_db(old_name, verbosity=0)
    remove_alias(SECOND_DATABASE)


@pytest.fixture(scope="module")
def unmigrated_database(tmp_path_factory):
    """An alias whose (SQLite) database has no tables: nobody ran migrate on it."""
    directory = tmp_path_factory.mktemp("unmigrated")
    config = second_database_config("sqlite", directory)
    config["NAME"] = str(directory / "empty.db")
    add_alias("unmigrated", config)
    yield "unmigrated"
    remove_alias("unmigrated")
