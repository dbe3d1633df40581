from django.conf import settings
from django.db import models

from ordering.models import Table


class StaffCall(models.Model):
    """A customer's call for staff; also the outbox row of its Discord alert."""

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="staff_calls", verbose_name="테이블")
    message = models.CharField("요청", max_length=200, blank=True, default="")
    created_at = models.DateTimeField("호출 시각", auto_now_add=True)
    acked_at = models.DateTimeField("확인 시각", null=True, blank=True)
    acked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="확인한 직원",
    )
    notified = models.BooleanField("디스코드 알림 보냄", default=False)
    attempts = models.PositiveSmallIntegerField("디스코드 시도 횟수", default=0)
    next_attempt_at = models.DateTimeField("디스코드 다음 시도", null=True, blank=True)
    # The hash of the guest's Idempotency-Key: a phone that lost the answer calls again and is answered with
    # this call rather than making a second one (kitchen.services.staff_call).
    client_key = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "직원 호출"
        indexes = [
            models.Index(fields=["notified", "next_attempt_at"], name="staffcall_outbox_idx"),
            models.Index(fields=["acked_at", "created_at"], name="staffcall_open_idx"),
        ]

    # True when services.staff_call answered a guest's resent Idempotency-Key with this call, made before.
    resent = False

    def __str__(self) -> str:
        return f"{self.table} {self.created_at:%H:%M}"
