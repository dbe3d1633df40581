from django.conf import settings
from django.db import models


class StaffAction(models.Model):
    """Who on the staff did what, and when (CONTRACT.md section 8): one row per staff write.

    A log rather than a `*_by` column on every model: every kind of write is attributed the same way and
    the admin lists them in one place.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name="직원"
    )

    class Action(models.TextChoices):
        KITCHEN_STATUS = "kitchen_status", "조리 상태 변경"
        REFUND = "refund", "환불"
        CONFIRM_PAYMENT = "confirm_payment", "입금 확인"
        PAYMENT_MATCH = "payment_match", "입금 연결"
        TABLE_CREATE = "table_create", "테이블 만들기"
        TABLE_RESET = "table_reset", "테이블 초기화"
        TABLE_OPEN = "table_open", "테이블 열기"
        TABLE_CLOSE = "table_close", "테이블 닫기"
        FOOD_UPDATE = "food_update", "메뉴 변경 (품절·수량·가격·준비처)"
        FOOD_CREATE = "food_create", "메뉴 추가 (관리자)"
        FOOD_SAVE = "food_save", "메뉴 수정 (관리자)"
        STAFF_CALL_ACK = "staff_call_ack", "직원 호출 확인"

    action = models.CharField("작업", max_length=40, choices=Action.choices)
    target = models.CharField("대상", max_length=100, help_text="주문번호, 테이블명, 메뉴명 등")
    detail = models.JSONField("내용", default=dict, blank=True)
    created_at = models.DateTimeField("시각", auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = verbose_name_plural = "직원 작업 기록"

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.target}"


class IdempotentAnswer(models.Model):
    """The first answer to a staff write sent with an `Idempotency-Key` (CONTRACT.md section 10): a repeat of
    the key by the same user gets it again and changes nothing. Kept a day (core.idempotency.forget_old)."""

    key = models.CharField(max_length=200)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64, help_text="method, path and body of the first request")
    status = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "중복 방지 응답"
        constraints = [models.UniqueConstraint(fields=["key", "user"], name="idempotent_answer_key_user")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
