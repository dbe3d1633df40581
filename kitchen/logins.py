"""Limits on failed staff logins (the API token and the login page), per client address and per username.

Each failed attempt costs a password hash on one of the few sync threads; unlimited guessing both finds
weak passwords and slows every order. Counted in Django's cache (Redis when REDIS_URL is set, so every
process counts together), in a fixed window; a success clears the username's count.
"""

import logging

from django.conf import settings
from django.core.cache import cache

from ordering.errors import DomainError

logger = logging.getLogger(__name__)


class TooManyAttempts(DomainError):
    status_code = 429

    def __init__(self):
        super().__init__(
            f"로그인 시도가 너무 많습니다. {settings.LOGIN_FAILURE_WINDOW_SECONDS // 60}분 뒤에 다시 시도해 주세요.",
            code="too_many_attempts",
            retry_after=settings.LOGIN_FAILURE_WINDOW_SECONDS,
        )


def _keys(address: str, username: str) -> list[tuple[str, int]]:
    return [
        (f"login-failures:ip:{address}", settings.LOGIN_FAILURES_PER_ADDRESS),
        (f"login-failures:user:{username.strip().lower()[:150]}", settings.LOGIN_FAILURES_PER_USERNAME),
    ]


def _count(key: str) -> int:
    try:
        return cache.get(key) or 0
    except Exception:  # the counters live in Redis: an outage must not lock the staff out
        logger.warning("login limits unavailable, attempt allowed", exc_info=True)
        return 0


def check(address: str, username: str) -> None:
    """Raise TooManyAttempts when this address or this username has failed too often lately."""
    if not settings.THROTTLE_ENABLED:
        return
    for key, limit in _keys(address, username):
        if _count(key) >= limit:
            raise TooManyAttempts()


def failed(address: str, username: str) -> None:
    if not settings.THROTTLE_ENABLED:
        return
    try:
        for key, _limit in _keys(address, username):
            if not cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr: start a new window
                    cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    except Exception:
        logger.warning("login limits unavailable, failure not counted", exc_info=True)


def succeeded(username: str) -> None:
    try:
        cache.delete(_keys("", username)[1][0])
    except Exception:
        logger.warning("login limits unavailable", exc_info=True)
