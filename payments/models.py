from django.db import models

from ordering.models import Order


class ExactCharField(models.CharField):
    """A CharField compared exactly (case- and accent-sensitive) on every database.

    SQLite compares bytes already; MariaDB's default utf8mb4_general_ci would make trace ids "Ab1" and "aB1"
    one delivery. The column type per vendor is Django's documented hook (Field.db_type); unlike a RunSQL in a
    migration, it lives in the field, so a later AlterField cannot drop the collation.
    """

    def db_type(self, connection):
        if connection.vendor == "mysql":
            return f"{super().db_type(connection)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        return super().db_type(connection)


TRACE_ID_MAX_LENGTH = 128


class PaymentEvent(models.Model):
    """Every PayAction delivery, as received, with what we made of it."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "입금"
        WITHDRAWAL = "withdrawal", "출금"
        MATCH = "match", "매칭 알림"
        UNKNOWN = "unknown", "알 수 없음"

    class Outcome(models.TextChoices):
        MATCHED = "matched", "매칭됨"
        DUPLICATE = "duplicate", "중복"
        UNMATCHED = "unmatched", "매칭 안 됨"
        AMBIGUOUS = "ambiguous", "후보 여러 건"
        NEEDS_REFUND = "needs_refund", "환불 필요"
        IGNORED = "ignored", "무시"

    trace_id = ExactCharField("추적 ID", max_length=TRACE_ID_MAX_LENGTH, unique=True)
    kind = models.CharField("종류", max_length=12, choices=Kind.choices)
    transaction_name = models.CharField("입금자명", max_length=100, blank=True, default="")
    amount = models.BigIntegerField("금액", null=True, blank=True)
    order_number = models.CharField("주문번호", max_length=40, blank=True, default="")
    outcome = models.CharField("처리 결과", max_length=14, choices=Outcome.choices, db_index=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="payment_events", verbose_name="주문"
    )
    transaction_at = models.DateTimeField("거래 시각", null=True, blank=True)
    received_at = models.DateTimeField("받은 시각", auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField("처리 시각", null=True, blank=True)
    raw = models.JSONField("원문", default=dict)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = verbose_name_plural = "입금 알림"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.transaction_name} {self.amount} ({self.outcome})"


class PayActionRegistration(models.Model):
    """Outbox row: tell PayAction about a pre-order so it can match the deposit by order number."""

    order = models.OneToOneField(
        Order, on_delete=models.CASCADE, related_name="payaction_registration", verbose_name="주문"
    )
    created_at = models.DateTimeField("만든 시각", auto_now_add=True)
    done = models.BooleanField("등록 완료", default=False)
    attempts = models.PositiveSmallIntegerField("시도 횟수", default=0)
    next_attempt_at = models.DateTimeField("다음 시도", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "페이액션 주문 등록"
        indexes = [models.Index(fields=["done", "next_attempt_at"], name="payaction_outbox_idx")]

    def __str__(self) -> str:
        return f"PayAction 등록 {self.order_id} ({'완료' if self.done else '대기'})"
