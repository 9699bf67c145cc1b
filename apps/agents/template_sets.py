"""Bundled template sets: ready-made agents, personas and screenplays, installed as archives.

Each ``bundled_templates/<name>.json`` holds a title, a description and the three
archive lists. Its agents name no model: they get the one the demo team gets. A set
is installed through the archive restore, so installing twice changes nothing, and
installing again after local edits brings the set's objects back to the template.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

from rest_framework.exceptions import PermissionDenied

from apps.agents.demo import demo_model
from apps.agents.exceptions import UnknownTemplateSet
from apps.archive.restore import RestoreReport, restore_archive
from apps.archive.schema import ARCHIVE_FORMAT, ARCHIVE_VERSION, KINDS
from apps.core.types import Actor

TEMPLATES_DIR = Path(__file__).resolve().parent / "bundled_templates"

INSTALL_PERMISSIONS = tuple(
    f"{app}.{action}_{model}"
    for app, model in (("agents", "agent"), ("personas", "persona"), ("screenplays", "screenplay"))
    for action in ("add", "change")
)


class TemplateSetInfo(TypedDict):
    name: str
    title: str
    description: str
    agents: int
    personas: int
    screenplays: int


def _names() -> list[str]:
    return sorted(path.stem for path in TEMPLATES_DIR.glob("*.json"))


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEMPLATES_DIR / f"{name}.json").read_text("utf-8"))
    return data


def agent_templates_available() -> list[TemplateSetInfo]:
    """Every bundled set with what it installs, by name."""
    sets: list[TemplateSetInfo] = []
    for name in _names():
        data = _load(name)
        counts = {kind: len(data[kind]) for kind in KINDS}
        sets.append(
            {
                "name": name,
                "title": data["title"],
                "description": data["description"],
                "agents": counts["agents"],
                "personas": counts["personas"],
                "screenplays": counts["screenplays"],
            }
        )
    return sets


def agent_template_archive(name: str) -> dict[str, Any]:
    """The set as an archive, its agents given the model Conductor picks for shipped agents."""
    names = _names()
    if name not in names:
        raise UnknownTemplateSet(
            f"There is no template set {name!r}. Available: {', '.join(names)}.",
            details={"name": name, "available": names},
        )
    data = _load(name)
    model = demo_model()
    return {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "agents": [{"model": model, **agent} for agent in data["agents"]],
        "personas": data["personas"],
        "screenplays": data["screenplays"],
    }


def _require_install_permission(actor: Actor) -> None:
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied("Sign in to install a template set.")
    if not actor.has_perms(INSTALL_PERMISSIONS):  # type: ignore[union-attr,attr-defined]
        raise PermissionDenied(
            "Installing a template set needs permission to add and change agents, personas "
            "and screenplays (the Editors group has it)."
        )


def agent_templates_install(*, name: str, actor: Actor) -> RestoreReport:
    """Installs the set ``name`` (see ``agent_templates_available``); editors and superusers."""
    _require_install_permission(actor)
    archive = agent_template_archive(name)
    return restore_archive(
        archive, actor=actor, using="default", reason=f"Installed from the template set {name!r}"
    )
