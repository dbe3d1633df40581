from django.db import models


class OutboxHold(models.Model):
    """An outside service that answered 429: background.outbox sends it nothing before `until`, from any process.

    The cache carries the same hold (shared through Redis); this row keeps it when the cache is per process
    or down. One row per service, keyed by a hash (a Discord webhook URL is a secret).
    """

    service = models.CharField(max_length=64, primary_key=True)
    until = models.DateTimeField()

    class Meta:
        db_table = "core_outboxhold"  # made by the core app, which held it first
        verbose_name = verbose_name_plural = "외부 호출 보류"

    def __str__(self) -> str:
        return f"{self.service[:12]} until {self.until.isoformat()}"
