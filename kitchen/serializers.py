from rest_framework import serializers

from kitchen.models import StaffCall


class TableRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class StaffCallSerializer(serializers.ModelSerializer):
    table = TableRefSerializer()
    acked_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StaffCall
        fields = ["id", "table", "message", "created_at", "acked_at", "acked_by"]


class StaffCallQuerySerializer(serializers.Serializer):
    open = serializers.BooleanField(required=False, default=False)
