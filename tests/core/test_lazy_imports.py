"""litellm and the MCP SDK load on first use, never at start-up.

Each is heavy (litellm alone takes about a second to import); a process that
only serves the REST API, or runs ``manage.py check``, must not pay for them.
Checked in a fresh interpreter, since the test process has imported both long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.subprocesses import BASE_DIR

HEAVY = ("litellm", "mcp")

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
