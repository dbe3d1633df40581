from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "결제"

    def ready(self):
        from ordering.events import GROUP_STAFF
        from payments.selectors import staff_snapshot_part
        from realtime import snapshots

        snapshots.provide(GROUP_STAFF, staff_snapshot_part)
