from django.apps import AppConfig


class OrderingConfig(AppConfig):
    name = "ordering"
    verbose_name = "주문"

    def ready(self) -> None:
        from ordering.events import GROUP_KITCHEN, GROUP_STAFF, TABLE_GROUP_PREFIX
        from ordering.menu import menu_current
        from realtime import heartbeat

        heartbeat.numbered(GROUP_KITCHEN, GROUP_STAFF, TABLE_GROUP_PREFIX)
        heartbeat.provide(lambda: {"menu_version": menu_current().version})
