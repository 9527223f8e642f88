"""Percentiles, tables and the JSON result line."""
from __future__ import annotations

import json
import os
import platform
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def data_dir() -> Path:
    """Where datasets and results.jsonl live: ``bench/data`` unless BENCH_DATA says otherwise."""
    return Path(os.environ.get("BENCH_DATA") or DATA)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation), ``nan`` for no values."""
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(-(-p * len(values) // 100)) - 1))
    return values[k]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": round(percentile(ms, 50), 2), "p95": round(percentile(ms, 95), 2),
            "p99": round(percentile(ms, 99), 2), "max": round(max(ms), 2) if ms else float("nan")}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "mem": mem, "python": platform.python_version()}


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("  ".join(c + " " * (widths[i] - _width(c)) for i, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(c) -> str:
    if isinstance(c, float):
        return f"{c:,.2f}" if abs(c) < 100 else f"{c:,.0f}"
    if isinstance(c, int):
        return f"{c:,}"
    return str(c)


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


def emit(name: str, size: str, payload: dict) -> dict:
    """Print the JSON line and append it to bench/data/results.jsonl."""
    from . import datasets

    line = {"bench": name, "size": size, "database": "postgresql" if datasets.DATABASE_URL else "sqlite", "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(), **payload}
    text = json.dumps(line, ensure_ascii=False, sort_keys=False)
    print(text)
    data_dir().mkdir(parents=True, exist_ok=True)
    with open(data_dir() / "results.jsonl", "a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return line


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
