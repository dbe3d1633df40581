"""Idempotency keys for guests' orders: a key belongs to an owner (a staff user, or the guests), not a user."""

from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Cast, Concat


def owners_of_staff_keys(apps, schema_editor):
    answers = apps.get_model("core", "IdempotentAnswer")
    answers.objects.update(owner=Concat(models.Value("user:"), Cast("user_id", models.CharField())))


def forget_guest_keys(apps, schema_editor):
    """Going back: a guest's key has no user to belong to (the answers are only kept a day anyway)."""
    apps.get_model("core", "IdempotentAnswer").objects.filter(user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_outboxhold_moved_to_background"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotentanswer",
            name="owner",
            field=models.CharField(default="", help_text="user:<id> for staff, guest for phones", max_length=40),
            preserve_default=False,
        ),
        migrations.RunPython(owners_of_staff_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="idempotentanswer", name="idempotent_answer_key_user"),
        migrations.AddConstraint(
            model_name="idempotentanswer",
            constraint=models.UniqueConstraint(fields=("key", "owner"), name="idempotent_answer_key_owner"),
        ),
        migrations.AlterField(
            model_name="idempotentanswer",
            name="user",
            field=models.ForeignKey(
                null=True,
                on_delete=models.deletion.CASCADE,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, forget_guest_keys),
    ]
