"""`createsuperuser --noinput` with only DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD (CONTRACT.md).

Django's default user requires an email with --noinput; staff accounts here need none, so a
placeholder is used unless DJANGO_SUPERUSER_EMAIL or --email is given.
"""

import os

from django.contrib.auth.management.commands import createsuperuser


class Command(createsuperuser.Command):
    def handle(self, *args, **options):
        if not options.get("interactive") and not options.get("email"):
            username = options.get("username") or os.environ.get("DJANGO_SUPERUSER_USERNAME") or "staff"
            os.environ.setdefault("DJANGO_SUPERUSER_EMAIL", f"{username}@staff.invalid")
        return super().handle(*args, **options)
