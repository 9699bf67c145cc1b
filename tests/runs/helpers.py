from __future__ import annotations

from typing import Any

from apps.runs.models import Run, RunEvent


def start(client: Any, agent_slug: str, **body: Any) -> dict[str, Any]:
    body.setdefault("input", "Please echo hi")
    body.setdefault("cwd", "/srv/project")
    response = client.post(f"/api/agents/{agent_slug}/run/", body, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def finished(client: Any, run_id: str) -> dict[str, Any]:
    response = client.get(f"/api/runs/{run_id}/")
    assert response.status_code == 200, response.content
    return response.json()


def event_names(run_id: str) -> list[str]:
    return list(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("event", flat=True)
    )


def assert_gapless(run_id: str) -> None:
    seqs = list(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    assert Run.objects.get(pk=run_id).last_event_seq == len(seqs)


def without_deltas(names: list[str]) -> list[str]:
    return [name for name in names if name != "llm.delta"]
