"""When to try again and how long to wait: exponential backoff with full jitter.

Full jitter (a uniform draw between 0 and the exponential bound) spreads retries of many
clients that failed together, so they do not come back as the same synchronised burst.
A 429 or 503 with ``Retry-After`` is obeyed (capped, so a benchmark never waits an hour).
404 is final: asking again for a country that does not exist cannot help.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

BACKOFF_CAP_S = 10.0
RETRY_AFTER_CAP_S = 30.0


def should_retry(outcome: str, attempt: int, retries: int) -> bool:
    """Retry errors (never ``ok`` or ``not_found``) while attempts remain."""
    return outcome == "error" and attempt <= retries


def backoff_delay(
    attempt: int, base_s: float, u: float, retry_after_s: float | None = None
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    ``u`` is a uniform draw in [0, 1); passing it in keeps this function pure and testable.
    """
    bound = min(BACKOFF_CAP_S, base_s * 2 ** (attempt - 1))
    delay = u * bound
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, RETRY_AFTER_CAP_S))
    return delay


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
