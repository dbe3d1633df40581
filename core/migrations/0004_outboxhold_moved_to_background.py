# OutboxHold now belongs to the background app (its table stays): only Django's state moves.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_alter_staffaction_action"),
        ("background", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OutboxHold")],
            database_operations=[],
        ),
    ]
