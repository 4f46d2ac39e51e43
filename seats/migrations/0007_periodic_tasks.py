"""The periodic tasks of seats (django-celery-beat): the idle-seat sweeper and the usage snapshot.

Created once by name: an administrator may change a time in the admin and no migration or
restart undoes it (rows that exist keep their schedule). Times are in TIME_ZONE. The snapshot's
row, created by compliance before the task moved here, is pointed at the task's new name.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

IDLE_SWEEPER = "seats: release idle concurrent seats"
USAGE_SNAPSHOT = "seats: daily usage snapshot"


def create_periodic_tasks(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")

    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    at_23_55, _ = CrontabSchedule.objects.get_or_create(
        minute="55",
        hour="23",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=IDLE_SWEEPER,
        defaults={
            "task": "seats.tasks.release_idle_leases",
            "interval": every_minute,
            "description": "Releases Concurrent seats whose session has been idle longer than "
            "IWP_CONCURRENT_IDLE_MINUTES.",
        },
    )
    snapshot, created = PeriodicTask.objects.get_or_create(
        name=USAGE_SNAPSHOT,
        defaults={
            "task": "seats.tasks.take_usage_snapshot",
            "crontab": at_23_55,
            "description": "Records licensed and in-use seats per server and organization for "
            "the day.",
        },
    )
    if not created and snapshot.task == "compliance.tasks.take_usage_snapshot":
        PeriodicTask.objects.filter(pk=snapshot.pk).update(task="seats.tasks.take_usage_snapshot")
    # Tell a running beat (DatabaseScheduler) to reload its schedule.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("seats", "0006_pools_for_licensed_servers"),
        ("compliance", "0002_periodic_tasks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_periodic_tasks, migrations.RunPython.noop)]
