from django.db import migrations, models


def copy_paid_at(apps, schema_editor):
    """Lines take their order's payment time (NULL unless the order was completed), and served lines their
    ticket time in tenths of a second (as ordering.models.ticket_tenths), in batches: a season is many lines."""
    Order = apps.get_model("ordering", "Order")
    OrderItem = apps.get_model("ordering", "OrderItem")
    paid_at = Order.objects.filter(pk=models.OuterRef("order_id")).values("paid_at")[:1]
    OrderItem.objects.update(paid_at=models.Subquery(paid_at))
    served = OrderItem.objects.filter(paid_at__isnull=False, served_at__isnull=False).only("paid_at", "served_at")
    batch = []
    for line in served.iterator(chunk_size=2000):
        line.ticket_tenths = max(0, round((line.served_at - line.paid_at).total_seconds() * 10))
        batch.append(line)
        if len(batch) == 2000:
            OrderItem.objects.bulk_update(batch, ["ticket_tenths"])
            batch = []
    OrderItem.objects.bulk_update(batch, ["ticket_tenths"])


class Migration(migrations.Migration):
    dependencies = [
        ("ordering", "0002_front_of_house"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="order",
            name="order_paid_idx",
        ),
        migrations.AddField(
            model_name="orderitem",
            name="paid_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="결제 시각"),
        ),
        migrations.AddField(
            model_name="orderitem",
            name="ticket_tenths",
            field=models.PositiveIntegerField(
                blank=True, editable=False, null=True, verbose_name="결제부터 서빙까지(0.1초)"
            ),
        ),
        migrations.RunPython(copy_paid_at, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["status", "paid_at", "total_amount", "refunded_amount"], name="order_paid_idx"),
        ),
        migrations.AddIndex(
            model_name="orderitem",
            index=models.Index(
                fields=["food", "station", "paid_at", "quantity", "unit_price", "ticket_tenths"],
                name="orderitem_night_idx",
            ),
        ),
    ]
