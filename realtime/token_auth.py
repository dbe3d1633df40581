from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _user_for_token(key: str):
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token and token.user.is_active else None


class TokenAuthMiddleware:
    """`?token=<key>` on a socket authenticates like `Authorization: Token <key>` over HTTP."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin1"))
        key = (query.get("token") or [""])[0]
        if key:
            user = await _user_for_token(key[:64])
            if user is not None:
                scope = {**scope, "user": user}
        return await self.application(scope, receive, send)
