from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared infrastructure of every app: the health check, attribution, idempotent writes, logging, the
    served process's HTTP around Django."""

    name = "core"
    verbose_name = "공통"
