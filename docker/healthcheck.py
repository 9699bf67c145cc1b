"""Container healthcheck: GET /health from inside the container.

It presents the first allowed host and the proxy's HTTPS header, as the real
traffic does, so that host validation and the SSL redirect treat it alike.
"""

import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("PORT", "8000")
host = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0].strip()
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/health",
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        sys.exit(0 if response.status == 200 else 1)
except (urllib.error.URLError, OSError) as exc:
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
