"""Cold start: ``manage.py check`` wall time, as a ratio to a bare Django project's ``check``.

The bare project (contrib apps only, SQLite) is generated in a temporary directory. Runs
alternate between the two, each a fresh interpreter. Also checks that litellm and the MCP
SDK stay out of ``sys.modules`` after ``django.setup()`` and after importing the ASGI app,
and lists the heaviest imports of ``check`` (``-X importtime``) in the notes: by the module that
first imported them, and by the package whose own code took the time.
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
    # A process starts from compiled modules (the image compiles them at build): without
    # this, the warm-up writes no .pyc and every timed check compiles ~200 modules again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
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


def importtime_lines(env: dict[str, str]) -> list[tuple[int, int, str]]:
    """``(self us, cumulative us, indented name)`` of every import ``check`` makes."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "manage.py"), "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    lines = []
    for line in completed.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        lines.append((int(parts[0].split(":")[1]), int(parts[1]), parts[2]))
    return lines


def top_imports(lines: list[tuple[int, int, str]], count: int = 8) -> list[tuple[str, float]]:
    """The modules imported outside any other import whose import (cumulative) costs the most.

    The figure includes everything the module was the first to import: the first view
    module the URLconf reaches is charged for all of DRF.
    """
    costs: dict[str, float] = {}
    for _, cumulative, raw in lines:
        if len(raw) - len(raw.lstrip()) == 1:  # not indented: imported by no other module
            costs[raw.strip()] = cumulative / 1000
    return sorted(costs.items(), key=lambda item: -item[1])[:count]


def top_packages(lines: list[tuple[int, int, str]], count: int = 10) -> list[tuple[str, float]]:
    """The top-level packages whose own modules (self time, summed) cost the most."""
    costs: dict[str, float] = {}
    for own, _, raw in lines:
        package = raw.strip().split(".")[0]
        costs[package] = costs.get(package, 0.0) + own / 1000
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
        profile = importtime_lines(env)

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
        + ", ".join(f"{name} {ms:.0f}" for name, ms in top_imports(profile))
    )
    result.notes.append(
        "heaviest packages of our check (own import time, ms summed over their modules): "
        + ", ".join(f"{name} {ms:.0f}" for name, ms in top_packages(profile))
    )
    result.notes.append(
        "check runs django.setup() (settings, every app's models, admin autodiscovery) and "
        "imports the whole URLconf: every view and serializer, so DRF (whose compat module "
        "imports psycopg, requests and yaml when installed) and, through @extend_schema, "
        "drf-spectacular's AutoSchema (django.test, jinja2). django_celery_beat's models "
        "import celery and kombu, and registering the tools loads jsonschema. The bare "
        "project has none of these."
    )
    result.notes.append(
        "both sides run from compiled modules: PYTHONDONTWRITEBYTECODE is unset for the"
        " checks, so the warm-up run writes the .pyc files the timed runs read."
    )
    result.save_and_print()
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())
