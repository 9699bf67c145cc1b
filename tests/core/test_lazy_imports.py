"""litellm and the MCP SDK load on first use, never at start-up.

Each is heavy (litellm alone takes about a second to import); a process that
only serves the REST API, or runs ``manage.py check``, must not pay for them.
The same goes, at a smaller scale, for daphne's Twisted and the libraries only a tool
run or a rendered page needs (bench/cold_start.py).
Checked in a fresh interpreter, since the test process has imported all of them long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.subprocesses import BASE_DIR

HEAVY = ("litellm", "mcp")
# Needed to serve a request or run a tool, not to start a process or run the checks
# (which the Celery worker runs too): daphne is started by `serve`, not an installed app.
ON_USE = ("twisted", "daphne", "httpx", "markdown_it", "snowballstemmer")

PROBE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conductor_site.settings")
import django
django.setup()
loaded = {"setup": [name for name in %(heavy)r if name in sys.modules]}
from django.urls import get_resolver
get_resolver().url_patterns  # every app's urls, views and serializers
import conductor_site.asgi  # what daphne and uvicorn load
loaded["asgi"] = [name for name in %(heavy)r if name in sys.modules]
print(json.dumps(loaded))
"""


def _loaded_in_fresh_process(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip().splitlines()[-1]


def test_django_setup_imports_neither_litellm_nor_mcp() -> None:
    code = (
        "import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'conductor_site.settings'); import django; django.setup(); "
        "print('litellm' in sys.modules, 'mcp' in sys.modules)"
    )
    assert _loaded_in_fresh_process(code) == "False False"


def test_url_conf_and_asgi_application_import_neither() -> None:
    loaded = json.loads(_loaded_in_fresh_process(PROBE % {"heavy": HEAVY}))
    assert loaded == {"setup": [], "asgi": []}


def test_setup_url_conf_and_asgi_application_import_no_server_or_http_client() -> None:
    loaded = json.loads(_loaded_in_fresh_process(PROBE % {"heavy": ON_USE}))
    assert loaded == {"setup": [], "asgi": []}
