from django.db import models


class Feed(models.Model):
    """A numbered feed of events: one table's tab, the kitchen, the staff screens (CONTRACT.md section 5).

    `seq` is the number of the feed's latest event. Each event takes the next one in the transaction that
    causes it, under this row's lock, so numbers follow the order in which the events commit and a
    committed event always has one, whatever happens to Redis afterwards.
    """

    name = models.CharField(max_length=64, primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "이벤트 피드"

    def __str__(self) -> str:
        return f"{self.name} #{self.seq}"
