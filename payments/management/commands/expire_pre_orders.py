from django.core.management.base import BaseCommand

from payments.services import pre_orders_expire


class Command(BaseCommand):
    help = (
        "Cancel unpaid pre-orders past expires_at and give their stock back. "
        "The served app does this by itself every few seconds; this command is for cron or a one-off."
    )

    def handle(self, *args, **options):
        total = 0
        while True:  # the service works in batches; repeat until nothing is due
            expired = pre_orders_expire()
            total += expired
            if not expired:
                break
        self.stdout.write(f"expired {total} pre-order(s)")
