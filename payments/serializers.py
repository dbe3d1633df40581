import unicodedata

from rest_framework import serializers

from ordering.serializers import (
    OrderLinesField,
    StrictCharField,
    StrictIntegerField,
    StrictUUIDField,
    cart_version_field,
)
from payments.models import PaymentEvent


class PayerNameField(StrictCharField):
    """The name the customer's bank shows on the deposit, which must equal it to match (CONTRACT.md section 6).

    Read in one Unicode form (NFC), so that two spellings of one name are one name; control and invisible
    characters, emoji and other symbols are refused, since no bank sends them and such a deposit could never
    match.
    """

    default_error_messages = {"unsendable": "입금자명에는 글자, 숫자, 띄어쓰기와 문장 부호만 쓸 수 있어요."}

    def to_internal_value(self, data):
        name = unicodedata.normalize("NFC", super().to_internal_value(data))
        if any(unicodedata.category(char)[0] in "CS" or (char.isspace() and char != " ") for char in name):
            self.fail("unsendable")
        return name


class PreOrderInSerializer(serializers.Serializer):
    payer_name = PayerNameField(min_length=1, max_length=20, trim_whitespace=True)
    total_amount = StrictIntegerField(min_value=0)
    items = OrderLinesField()
    cart_version = cart_version_field()


class PreOrderOutSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()
    order_number = serializers.CharField()
    redirect_url = serializers.CharField()
    message = serializers.CharField()
    total_amount = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    bank_name = serializers.CharField()
    bank_account_no = serializers.CharField()


class PaymentStatusSerializer(serializers.Serializer):
    order_id = serializers.UUIDField(source="order.id")
    order_status = serializers.CharField(source="order.status")
    payment_completed = serializers.SerializerMethodField()
    payer_name = serializers.CharField(source="order.payer_name")
    total_amount = serializers.IntegerField(source="order.total_amount")
    paid_at = serializers.DateTimeField(source="order.paid_at", allow_null=True)
    expires_at = serializers.DateTimeField(source="order.expires_at", allow_null=True)
    redirect_url = serializers.CharField(
        allow_null=True, help_text="the Toss transfer link while it waits for its money"
    )
    bank_name = serializers.CharField(allow_null=True)
    bank_account_no = serializers.CharField(allow_null=True)

    def get_payment_completed(self, status) -> bool:
        return status["order"].status == "completed"


class RefundInSerializer(serializers.Serializer):
    items = OrderLinesField()
    reason = StrictCharField(max_length=200, allow_blank=True, required=False, default="")


class PaymentEventSerializer(serializers.ModelSerializer):
    order_id = serializers.UUIDField(allow_null=True)

    class Meta:
        model = PaymentEvent
        fields = [
            "id",
            "trace_id",
            "kind",
            "transaction_name",
            "amount",
            "outcome",
            "order_id",
            "received_at",
            "raw",
        ]


class PaymentMatchInSerializer(serializers.Serializer):
    order_id = StrictUUIDField()


class PaymentResolveInSerializer(serializers.Serializer):
    note = StrictCharField(required=False, allow_blank=True, max_length=200, default="")


class OutcomeQuerySerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=PaymentEvent.Outcome.choices, required=False)
    open = serializers.BooleanField(required=False, default=False)
