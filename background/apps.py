from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    """Work done off the request path: the outbox of calls to outside services (Discord, PayAction), sent
    exactly once, and the periodic jobs and process tasks every served process runs."""

    name = "background"
    verbose_name = "백그라운드 작업"
