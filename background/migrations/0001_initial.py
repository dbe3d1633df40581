# OutboxHold moved here from the core app: its table stays (core_outboxhold); only Django's state moves.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("core", "0003_alter_staffaction_action"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OutboxHold",
                    fields=[
                        ("service", models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ("until", models.DateTimeField()),
                    ],
                    options={
                        "verbose_name": "외부 호출 보류",
                        "verbose_name_plural": "외부 호출 보류",
                        "db_table": "core_outboxhold",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
