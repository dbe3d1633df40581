"""Rate limits on public writes, per client IP and per table. THROTTLE=off turns them all off."""

import logging
import uuid

from django.conf import settings
from rest_framework.exceptions import APIException
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class _Throttle(SimpleRateThrottle):
    def allow_request(self, request, view):
        if not settings.THROTTLE_ENABLED:
            return True
        try:
            return super().allow_request(request, view)
        except APIException:  # the body could not be read (the per-table key is in it): the client's fault
            raise
        except Exception as exc:  # the counters live in Redis: an outage must never cost an order
            logger.warning("rate limit unavailable, request allowed", extra={"scope": self.scope, "error": repr(exc)})
            return True


class PublicWriteIpThrottle(_Throttle):
    scope = "public_write_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class PublicWriteTableThrottle(_Throttle):
    scope = "public_write_table"

    def get_cache_key(self, request, view):
        table_id = view.kwargs.get("table_id")
        if table_id is None and isinstance(request.data, dict):
            table_id = request.data.get("table_id")
        if not table_id:
            return None
        try:  # one counter per table, however its UUID is spelt (the routes take any letter case)
            ident = str(uuid.UUID(str(table_id)))
        except ValueError:
            ident = str(table_id)[:64]
        return self.cache_format % {"scope": self.scope, "ident": ident}


class StaffCallThrottle(PublicWriteTableThrottle):
    scope = "staff_call"
