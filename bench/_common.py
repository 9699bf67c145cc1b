"""What every benchmark shares: the machine it ran on, percentiles, tables and results.

Each benchmark is a script, ``python -m bench.<name> [--quick]``, that prints a table and
writes ``bench/results/<name>.json``. Figures are ratios against a baseline measured in
the same run, because absolute times on shared machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

# Servers and workers under measurement run as in production: DEBUG off (DEBUG on keeps
# every SQL statement in ``connection.queries``), with the key and hosts that then need.
PRODUCTION_SETTINGS = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "bench-only-" + "r7Q!x2Lp9#Vz4$Kw8^Nd3&Ht6*Jm1(Fs5)Gb0_" * 2,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
}


def setup_django() -> None:
    """Django, in this process, with the project's settings (SQLite unless DATABASE_URL)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conductor_site.settings")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import django

    django.setup()


def timings(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall seconds of ``repeat`` calls of ``fn``."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="fewer samples: what bench/run_all runs"
    )
    return parser.parse_args(argv)


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Iterable[float]) -> dict[str, float]:
    """p50, p99 and mean of durations given in seconds, in milliseconds."""
    values = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(percentile(values, 50), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "mean_ms": round(statistics.fmean(values), 3) if values else float("nan"),
        "n": len(values),
    }


def redis_version() -> str:
    try:
        import redis

        return str(redis.Redis.from_url(REDIS_URL).info("server")["redis_version"])
    except Exception as exc:  # reported, not fatal: a benchmark may not need Redis
        return f"unavailable ({type(exc).__name__})"


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "redis": redis_version(),
        "postgresql": _postgres_version(),
    }


def _postgres_version() -> str:
    psql = shutil.which("psql")
    if psql is None:
        return "unavailable"
    try:
        out = subprocess.run(
            [psql, "--version"], capture_output=True, text=True, timeout=5, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unavailable"
    return out.stdout.strip()


@dataclass
class Target:
    """A goal from the issue: ``value`` compared with ``limit`` by ``op`` (<=, <, >=, >, ==)."""

    name: str
    value: float
    op: str
    limit: float
    unit: str = ""

    @property
    def met(self) -> bool:
        return {
            "<=": self.value <= self.limit,
            "<": self.value < self.limit,
            ">=": self.value >= self.limit,
            ">": self.value > self.limit,
            "==": self.value == self.limit,
        }[self.op]


@dataclass
class Result:
    name: str
    quick: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def add_row(self, **row: Any) -> None:
        self.rows.append(row)

    def target(self, name: str, value: float, op: str, limit: float, unit: str = "") -> Target:
        goal = Target(name, value, op, limit, unit)
        self.targets.append(goal)
        return goal

    @property
    def all_met(self) -> bool:
        return all(goal.met for goal in self.targets)

    def save_and_print(self) -> Path:
        print_table(self.name, self.rows)
        if self.targets:
            print_table(
                f"{self.name}: targets",
                [
                    {
                        "target": goal.name,
                        "value": f"{goal.value:g}{goal.unit}",
                        "goal": f"{goal.op} {goal.limit:g}{goal.unit}",
                        "met": "yes" if goal.met else "NO",
                    }
                    for goal in self.targets
                ],
            )
        for note in self.notes:
            print(f"note: {note}")
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.name}.json"
        payload = {
            "name": self.name,
            "quick": self.quick,
            "machine": machine(),
            "duration_s": round(time.time() - self.started, 1),
            "rows": self.rows,
            "targets": [{**asdict(goal), "met": goal.met} for goal in self.targets],
            "notes": self.notes,
        }
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"wrote {path.relative_to(ROOT)}")
        return path


def print_table(title: str, rows: Sequence[dict[str, Any]]) -> None:
    print(f"\n== {title} ==")
    if not rows:
        print("(no rows)")
        return
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)
    ]
    print("  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)))
    for line in cells:
        print("  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else "nan"
    return str(value)


def exit_code(result: Result) -> int:
    """0 when every target is met: what bench/run_all counts."""
    return 0 if result.all_met else 1


if __name__ == "__main__":  # pragma: no cover - a library
    sys.exit("bench/_common.py is a library; run python -m bench.<name>")
