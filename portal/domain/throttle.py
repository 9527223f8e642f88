"""Exponential back-off for failed logins. Pure: counts and times in, a wait out.

A throttle key (an address, an account, the pair) gets ``free`` failures; each further failure
doubles the wait before the next attempt is even checked, from one second up to ``cap``. The
wait grows with the attempts on the key only, never with whether an account exists, so the
answer cannot tell which usernames are real (海南 第五十一条: access to credit data is controlled).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

RESET_AFTER = timedelta(hours=1)  # a key without failures for this long starts again from zero


@dataclass(frozen=True)
class Policy:
    free: int  # failures before any wait
    cap: timedelta  # the longest wait


def backoff(failures: int, policy: Policy) -> timedelta:
    """The wait after the ``failures``-th failure: 0 while free, then 1 s, 2 s, 4 s … ≤ cap."""
    over = failures - policy.free
    if over < 0:
        return timedelta(0)
    return min(policy.cap, timedelta(seconds=2 ** min(over, 30)))


def counted(failures: int, last_failure_at: datetime | None, now: datetime) -> int:
    """The failures that still count: old ones are forgotten after ``RESET_AFTER``."""
    if last_failure_at is None or now - last_failure_at > RESET_AFTER:
        return 0
    return failures


def wait_text(wait: timedelta) -> str:
    """"30 秒" / "3 分钟": how long to wait, rounded up."""
    seconds = max(1, int(-(-wait.total_seconds() // 1)))
    if seconds < 60:
        return f"{seconds} 秒"
    return f"{-(-seconds // 60)} 分钟"
