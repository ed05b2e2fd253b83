"""Beat schedule of the telemetry/alarm housekeeping tasks (django-celery-beat rows)."""

from django.db import migrations

TASKS = [
    ("telemetry: mark offline meters", "meters.telemetry.tasks.mark_offline_meters", 60),
    ("telemetry: purge old readings", "meters.telemetry.tasks.purge_old_readings", 24 * 3600),
]


def create(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds in TASKS:
        every, _ = interval_model.objects.get_or_create(every=seconds, period="seconds")
        task_model.objects.get_or_create(name=name, defaults={"task": task, "interval": every})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[name for name, _, _ in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
