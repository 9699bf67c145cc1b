"""The project's settings, with the channel layer the benchmark asks for (BENCH_CHANNEL_LAYER).

Used only as DJANGO_SETTINGS_MODULE of the daphne processes bench/fanout.py and
bench/idle_streams.py start, so that both Redis layers can be compared on one build.
"""

import os

from conductor_site.settings import *  # noqa: F403
from conductor_site.settings import REDIS_URL

BENCH_LAYER = os.environ.get("BENCH_CHANNEL_LAYER", "")
if REDIS_URL and BENCH_LAYER:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": BENCH_LAYER,
            "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ["BENCH_LAYER_PREFIX"]},
        }
    }
