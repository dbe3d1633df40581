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
    },
)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        connection.close_if_unusable_or_obsolete()
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
        return Response({"status": "ok" if healthy else "error", **body}, status=200 if healthy else 503)
