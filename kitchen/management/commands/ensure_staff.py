import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo staff user if missing (DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD)."

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "staff")
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD", "staff1234")
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"staff user '{username}' already exists")
            return
        User.objects.create_superuser(username=username, password=password, email="")
        self.stdout.write(self.style.SUCCESS(f"staff user created: {username} / {password}"))
