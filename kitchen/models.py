from django.db import models

from ordering.models import Table


class StaffCall(models.Model):
    """A customer's call for staff; also the outbox row of its Discord alert."""

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="staff_calls")
    message = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    notified = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "직원 호출"
        indexes = [models.Index(fields=["notified", "next_attempt_at"], name="staffcall_outbox_idx")]

    def __str__(self) -> str:
        return f"{self.table} {self.created_at:%H:%M}"
