"""Throttles of api.md rule 20: each caller's creates, cancels and validates per period, counted as DRF's
SimpleRateThrottle counts them (the times of the granted calls within the last period), answered 429 beyond."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from litestar import Request
from litestar.exceptions import TooManyRequestsException

from entrypoints.http.auth import current_user
from entrypoints.http.wire import container_of, now_of

CREATE, CANCEL, VALIDATE = "create", "cancel", "validate"

T = TypeVar("T")


class ThrottleStore(Protocol):
    """Where the granted calls are counted."""

    def take(self, key: str, limit: int, period_s: float, now_s: float) -> float | None:
        """Grant and record a call of ``key`` at ``now_s`` when fewer than ``limit`` were granted in the ``period_s``
        before it (None); otherwise record nothing and give the seconds until the oldest of them expires."""
        ...


class InMemoryThrottleStore(ThrottleStore):
    """Counts in this process only; a Redis-backed store can plug in later so that server processes share one budget.

    Handlers run in worker threads, hence the lock: checking and recording a call are one step."""

    def __init__(self) -> None:
        self._granted: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, limit: int, period_s: float, now_s: float) -> float | None:
        with self._lock:
            granted = self._granted.setdefault(key, deque())
            while granted and granted[0] <= now_s - period_s:
                granted.popleft()
            if len(granted) >= limit:
                return granted[0] + period_s - now_s
            granted.append(now_s)
            return None


def throttled_detail(wait_s: int) -> str:
    """DRF's words for a throttled call (singular for one second, as its ngettext gives)."""
    return f"Request was throttled. Expected available in {wait_s} second{'' if wait_s == 1 else 's'}."


def caller_key(request: Request[Any, Any, Any]) -> str:
    """Whose budget a call spends: the user's, or the client address's when anonymous. X-Forwarded-For is not
    read (anyone can write it); behind a proxy, uvicorn's --forwarded-allow-ips puts the client's address here."""
    user = current_user(request)
    if user is not None:
        return f"user:{user.id}"
    return f"ip:{request.client.host if request.client else 'unknown'}"


def check_throttle(request: Request[Any, Any, Any], scope: str) -> None:
    """Spend one call of ``scope`` (create, cancel or validate) on the caller's budget, or refuse with 429 and a
    Retry-After of the whole seconds until a call frees."""
    container = container_of(request)
    limit, period_s = container.settings().throttle_rates.of(scope)
    now_s = now_of(request).timestamp()
    wait = container.throttle_store().take(f"{scope}:{caller_key(request)}", limit, period_s, now_s)
    if wait is not None:
        wait_s = math.ceil(wait)
        raise TooManyRequestsException(detail=throttled_detail(wait_s), headers={"Retry-After": str(wait_s)})


def throttled(scope: str, work: Callable[..., T]) -> Callable[..., T]:
    """``work(request, ...)`` run only once the caller's budget for ``scope`` allows it, so a refused call
    changes nothing."""

    def run(request: Request[Any, Any, Any], *args: Any) -> T:
        check_throttle(request, scope)
        return work(request, *args)

    return run
