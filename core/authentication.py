"""DRF's session authentication, with its CSRF refusal named as such."""

from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions


class CsrfFailed(exceptions.PermissionDenied):
    """A staff member's page with a stale CSRF token: told to reload, not that they are not staff."""

    default_code = "csrf_failed"


class SessionAuthentication(authentication.SessionAuthentication):
    def enforce_csrf(self, request):
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise CsrfFailed() from None


class SessionAuthenticationScheme(SessionScheme):
    """The schema's cookie scheme for it, as drf-spectacular's for DRF's own (an OpenAPI extension)."""

    target_class = SessionAuthentication
