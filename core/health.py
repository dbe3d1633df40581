import redis
from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.CharField(),
        "database": serializers.CharField(),
        "channel_layer": serializers.CharField(),
        "warnings": serializers.ListField(child=serializers.CharField(), required=False),
    },
)


def warnings() -> list[str]:
    """Settings a night would go wrong without, though the app runs: said on /healthz and by `make dev`."""
    found = []
    if not settings.BANK_ACCOUNT_NO:
        found.append("BANK_ACCOUNT_NO is unset: pre-order payment sheets show no account to transfer to")
    return found


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        connection.close()  # the next request connects anew
        return "error"


def _channel_layer() -> str:
    if not settings.REDIS_URL:
        return "ok"  # in-memory layer: alive as long as this process is
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except Exception:
        return "error"


class HealthApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(operation_id="healthz", responses={200: HealthSerializer, 503: HealthSerializer})
    def get(self, request):
        body = {"database": _database(), "channel_layer": _channel_layer()}
        healthy = all(value == "ok" for value in body.values())
        answer = {"status": "ok" if healthy else "error", **body}
        if found := warnings():  # not a failure: a load balancer must keep sending traffic
            answer["warnings"] = found
        return Response(answer, status=200 if healthy else 503)
