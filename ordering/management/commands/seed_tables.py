from django.core.management.base import BaseCommand
from django.db import transaction

from ordering.models import Table

NAMES = [f"{row}{n}" for row in "ABC" for n in range(1, 6)]


class Command(BaseCommand):
    help = "Create tables A1-A5, B1-B5, C1-C5 (idempotent: existing tables keep their UUIDs)."

    @transaction.atomic
    def handle(self, *args, **options):
        # Existing tables keep their state; a new one starts as the model says (closed with TABLE_OPENING=required).
        created = sum(Table.objects.get_or_create(name=name)[1] for name in NAMES)
        self.stdout.write(self.style.SUCCESS(f"tables: {created} created, {len(NAMES) - created} already there"))
