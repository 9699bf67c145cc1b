"""``manage.py serve`` as a newcomer and an operator run it: a real process tree."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.services import free_port, redis_url
from tests.subprocesses import Served, child_env, manage, spawn_manage

pytestmark = pytest.mark.slow


@pytest.fixture
def serve(tmp_path):
    started: list[Served] = []

    def start(*, as_background_job: bool = False, **env_overrides: str) -> Served:
        port = free_port()
        env = child_env(tmp_path / "data", **env_overrides)
        process = spawn_manage(
            "serve",
            "--port",
            str(port),
            "--concurrency",
            "2",
            env=env,
            as_background_job=as_background_job,
        )
        served = Served(process, port)
        started.append(served)
        return served

    yield start
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()


def admin_login(base: str, username: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=10) as browser:
        page = browser.get("/admin/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return browser.post(
            "/admin/login/?next=/admin/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/admin/login/"},
        )


def printed_credentials(output: str) -> tuple[str, str]:
    match = re.search(r"Login:\s+username (\S+)\s+password (\S+)", output)
    assert match, output
    return match.group(1), match.group(2)


def children_of(pid: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_embedded_serve_answers_health_with_a_live_worker_and_lets_the_demo_user_in(serve):
    served = serve()

    body = served.wait_for_health(workers=True)
    username, password = printed_credentials(served.output)
    login = admin_login(served.base, username, password)

    assert body["checks"]["broker"]["detail"].startswith("memory://")
    assert body["checks"]["channel_layer"]["detail"] == "InMemoryChannelLayer round trip"
    assert login.status_code == 302, login.text
    assert login.headers["location"] == "/admin/"
    assert f"{served.base}/admin/" in served.output


def test_embedded_serve_stops_cleanly_on_ctrl_c(serve):
    served = serve()
    served.wait_for_health(workers=True)

    returncode = served.stop(signal.SIGINT)

    assert returncode == 0, served.output
    assert "Traceback" not in served.output


def test_sigint_stops_serve_even_when_started_as_a_background_job(serve):
    served = serve(as_background_job=True)
    served.wait_for_health(workers=False)

    returncode = served.stop(signal.SIGINT)

    assert returncode == 0, served.output


def test_a_second_start_keeps_the_data_and_prints_the_same_credentials(serve):
    first = serve()
    first.wait_for_health(workers=False)
    first.stop(signal.SIGINT)
    second = serve()
    second.wait_for_health(workers=False)

    assert printed_credentials(first.output) == printed_credentials(second.output)


def test_embedded_beat_fires_periodic_tasks_saved_in_the_database(serve, tmp_path):
    served = serve()
    served.wait_for_health(workers=True)
    create = (
        "from django_celery_beat.models import IntervalSchedule, PeriodicTask; "
        "every = IntervalSchedule.objects.create(every=1, period='seconds'); "
        "PeriodicTask.objects.create(name='db-scheduled', task='celery.backend_cleanup', "
        "interval=every)"
    )
    assert manage("shell", "-c", create, env=child_env(tmp_path / "data")).returncode == 0

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "celery.backend_cleanup" not in _succeeded(served):
        time.sleep(0.5)

    assert "Sending due task db-scheduled (celery.backend_cleanup)" in served.output
    assert "celery.backend_cleanup" in _succeeded(served), served.output
    assert not list(Path.cwd().glob("celerybeat-schedule*"))


def _succeeded(served: Served) -> str:
    return "\n".join(line for line in served.lines if "succeeded in" in line)


@pytest.mark.redis
def test_serve_with_redis_runs_web_worker_and_beat_as_children_and_stops_them_all(serve):
    served = serve(REDIS_URL=redis_url())

    body = served.wait_for_health(workers=True)
    children = children_of(served.process.pid)
    returncode = served.stop(signal.SIGTERM)

    assert "Redis" in body["checks"]["broker"]["detail"]
    assert body["checks"]["channel_layer"]["detail"] == "PubSubChannelLayer round trip"
    assert len(children) == 3, served.output
    assert returncode == 0, served.output
    assert not [pid for pid in children if is_running(pid)]
