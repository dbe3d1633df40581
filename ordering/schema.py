"""OpenAPI pieces shared by every app's views: the contract's error body, per status."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    "Error",
    {
        "code": serializers.CharField(help_text="snake_case, e.g. sold_out, table_not_found"),
        "detail": serializers.CharField(help_text="message for a person, Korean"),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="with code=invalid: field -> messages",
        ),
        "food_ids": serializers.ListField(child=serializers.IntegerField(), required=False),
        "expected": serializers.IntegerField(required=False, help_text="with amount_mismatch: the server total"),
        "retry_after": serializers.IntegerField(required=False),
    },
)

_DESCRIPTIONS = {
    400: "invalid input (code `invalid` with `errors`, or a named code)",
    401: "not_authenticated",
    403: "permission_denied (not staff)",
    404: "unknown or malformed id",
    409: "conflict with the current state",
    413: "payload_too_large (over 64 KiB)",
    429: "rate limited",
    503: "a passing fault; retry",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code]) for code in statuses}
