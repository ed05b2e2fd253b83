"""Beat schedule of the relay outcome recorder (a django-celery-beat row): every 10 seconds."""

from django.db import migrations

NAME, TASK, SECONDS = "relays: record outcomes", "meters.relays.tasks.record_relay_outcomes", 10


def create(apps, schema_editor):
    interval_model = apps.get_model("django_celery_beat", "IntervalSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval_model.objects.get_or_create(every=SECONDS, period="seconds")
    task_model.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": every})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("relays", "0001_relay_group_command"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
