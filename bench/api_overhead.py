"""Cost of Conductor's request stack, as a ratio to a bare Django view.

Both run in one process through Django's test client, interleaved, so that
machine noise hits both sides alike.
"""

from __future__ import annotations

import sys

from bench._common import Result, exit_code, parse_args, setup_django, summary_ms, timings


def main() -> int:
    args = parse_args(__doc__ or "")
    requests = 200 if args.quick else 1000

    setup_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.http import JsonResponse
    from django.test import Client
    from django.test.utils import get_runner, setup_test_environment
    from django.urls import path
    from rest_framework.authtoken.models import Token

    import conductor_site.urls as urls

    setup_test_environment()
    runner = get_runner(settings)(verbosity=0)
    old_config = runner.setup_databases()
    try:
        user = get_user_model().objects.create_user("bench")
        token = Token.objects.create(user=user)

        def bare(request):
            return JsonResponse({"id": 1, "username": "bench", "email": "", "is_staff": False})

        urls.urlpatterns.append(path("bench-bare/", bare))
        client = Client()
        auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
        for _ in range(50):  # warm-up
            client.get("/api/me/", **auth)
            client.get("/bench-bare/")

        ours, baseline = [], []
        for _ in range(requests // 50):
            ours += timings(lambda: client.get("/api/me/", **auth), 50)
            baseline += timings(lambda: client.get("/bench-bare/"), 50)
    finally:
        runner.teardown_databases(old_config)

    ours_s, base_s = summary_ms(ours), summary_ms(baseline)
    result = Result("api_overhead", quick=args.quick)
    result.add_row(route="GET /api/me/ (ours)", **ours_s)
    result.add_row(route="bare Django view", **base_s)
    ratio = round(ours_s["p50_ms"] / base_s["p50_ms"], 2)
    result.notes.append(f"p50 ratio ours/baseline: {ratio} (informational, no target)")
    result.save_and_print()
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())
