from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared infrastructure of every app: outside-service outboxes, periodic jobs, the health check."""

    name = "core"
    verbose_name = "공통"
