"""Running ``manage.py`` in a child process with a controlled environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
MANAGE = str(BASE_DIR / "manage.py")

# A strong, throw-away key for production-mode children; never used to sign anything real.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-only-" + "k3Y9#pQ2!vX8$wL5^mN7&bR4*tZ6(hJ1)dF0_sG" * 2,
    "DJANGO_ALLOWED_HOSTS": "conductor.example.com",
}


def child_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CONDUCTOR_", "PYTEST_"))
        or key == "CONDUCTOR_REQUIRE_SERVICES"
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["CONDUCTOR_DATA_DIR"] = str(data_dir)
    # An empty value keeps a developer's .env from filling the variable in.
    env.setdefault("DJANGO_SECRET_KEY", "")
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def spawn_manage(
    *args: str, env: dict[str, str], as_background_job: bool = False
) -> subprocess.Popen:
    """``as_background_job``: start with SIGINT ignored, as a shell's ``cmd &`` does.

    That is done by a shell (``trap '' INT; exec ...``), not with ``preexec_fn``,
    which is unsafe in a process that has threads, as the test process does.
    """
    command = [sys.executable, MANAGE, *args]
    if as_background_job:
        command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    return subprocess.Popen(
        command,
        env=env,
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
