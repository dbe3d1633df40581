from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Feed",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField(default=0)),
            ],
            options={"verbose_name": "이벤트 피드", "verbose_name_plural": "이벤트 피드"},
        ),
    ]
