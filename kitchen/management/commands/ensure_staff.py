import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

# `make dev` keeps the demo password it made here (git-ignored), so show_urls can print it on every start.
PASSWORD_FILE = Path(settings.BASE_DIR) / ".dev-staff-password"


class Command(BaseCommand):
    help = (
        "Create the demo staff user if missing (DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD). "
        "Without a password set, a random one is made and printed: a known default would let any guest in."
    )

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "staff")
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"staff user '{username}' already exists")
            return
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or secrets.token_urlsafe(9)
        User.objects.create_superuser(username=username, password=password, email="")
        if not os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            PASSWORD_FILE.write_text(password + "\n")
            PASSWORD_FILE.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"staff user created: {username} / {password}"))
