"""Beat schedule of Modbus polling: every 10 s, enqueue a poll of each gateway with due meters."""

from django.db import migrations

NAME = "telemetry: poll due gateways"
TASK = "meters.telemetry.tasks.poll_due_gateways"
EVERY_S = 10


def create(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_model.objects.get_or_create(every=EVERY_S, period="seconds")
    task_model.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": every})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0003_polling"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
