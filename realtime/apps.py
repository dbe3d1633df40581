from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """Real-time delivery: events sent after commit, the per-process group hub, the sockets' shared base."""

    name = "realtime"
    verbose_name = "실시간 전달"
