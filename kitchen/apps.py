from django.apps import AppConfig


class KitchenConfig(AppConfig):
    name = "kitchen"
    verbose_name = "주방"
