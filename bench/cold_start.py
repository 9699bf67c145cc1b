"""Cold start: ``manage.py check`` wall time, as a ratio to a bare Django project's ``check``.

The bare project (contrib apps only, SQLite) is generated in a temporary directory. Runs
alternate between the two, each a fresh interpreter. Also checks that litellm and the MCP
SDK stay out of ``sys.modules`` after ``django.setup()`` and after importing the ASGI app,
and lists the heaviest imports of ``check`` (``-X importtime``) in the notes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import ROOT, Result, exit_code, parse_args, summary_ms

TIMEOUT = 120.0
HEAVY = ("litellm", "mcp")

BARE_SETTINGS = """
SECRET_KEY = "bench-bare-project-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bare_site.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
STATIC_URL = "static/"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
"""

BARE_URLS = """
from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
"""

BARE_MANAGE = """
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare_site.settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""

PROBE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conductor_site.settings")
import django
django.setup()
loaded = {"setup": [name for name in %(heavy)r if name in sys.modules]}
import conductor_site.asgi
loaded["asgi"] = [name for name in %(heavy)r if name in sys.modules]
print(json.dumps(loaded))
"""


def make_bare_project(directory: Path) -> Path:
    site = directory / "bare_site"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")
    (site / "settings.py").write_text(BARE_SETTINGS)
    (site / "urls.py").write_text(BARE_URLS)
    (directory / "manage.py").write_text(BARE_MANAGE)
    return directory / "manage.py"


def our_env(data_dir: Path) -> dict[str, str]:
    """The project as a developer runs it: defaults, SQLite, no services needed."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_")) and key not in {"DATABASE_URL"}
    }
    env["CONDUCTOR_DATA_DIR"] = str(data_dir)
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return env


def timed_check(manage: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(manage), "check"],
        cwd=manage.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{manage} check failed:\n{completed.stdout}\n{completed.stderr}")
    return elapsed


def heavy_modules(env: dict[str, str]) -> dict[str, list[str]]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE % {"heavy": HEAVY}],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    )
    loaded: dict[str, list[str]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return loaded


def top_imports(env: dict[str, str], count: int = 8) -> list[tuple[str, float]]:
    """The top-level packages whose import (cumulative) costs ``check`` the most."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "manage.py"), "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    costs: dict[str, float] = {}
    for line in completed.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        raw = parts[2]
        if len(raw) - len(raw.lstrip()) != 1:  # indented: imported by another module
            continue
        costs[raw.strip()] = int(parts[1]) / 1000
    return sorted(costs.items(), key=lambda item: -item[1])[:count]


def main() -> int:
    args = parse_args(__doc__ or "")
    # bench/run_all's timeout sends SIGTERM: exit through the finally blocks that stop
    # the child processes, not past them.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    runs = 5 if args.quick else 15
    result = Result("cold_start", quick=args.quick)

    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        bare_manage = make_bare_project(Path(tmp) / "bare")
        env = our_env(Path(tmp) / "data")
        bare_env = {k: v for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE"}
        ours_manage = ROOT / "manage.py"
        timed_check(ours_manage, env)  # warm the OS file cache and .pyc files
        timed_check(bare_manage, bare_env)
        ours, bare = [], []
        for _ in range(runs):
            ours.append(timed_check(ours_manage, env))
            bare.append(timed_check(bare_manage, bare_env))
        loaded = heavy_modules(env)
        heaviest = top_imports(env)

    ours_s, bare_s = summary_ms(ours), summary_ms(bare)
    result.add_row(command="manage.py check (ours)", **ours_s)
    result.add_row(command="manage.py check (bare Django project)", **bare_s)
    ratio = round(ours_s["p50_ms"] / bare_s["p50_ms"], 2)
    result.target("check p50 ours/bare", ratio, "<=", 2)
    for stage, names in loaded.items():
        for name in HEAVY:
            result.target(
                f"'{name}' imported after {'django.setup()' if stage == 'setup' else 'asgi'}",
                int(name in names),
                "==",
                0,
            )
    result.notes.append(
        "heaviest top-level imports of our check (cumulative ms, -X importtime): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in heaviest)
    )
    result.notes.append(
        "check runs django.setup() (settings, every app's models, admin autodiscovery) and "
        "imports the whole URLconf (every view, serializer and DRF/drf-spectacular), and "
        "the settings import conductor_site.celery; the bare project has none of these."
    )
    result.save_and_print()
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())
