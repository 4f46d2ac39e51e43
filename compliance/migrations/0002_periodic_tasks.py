"""The periodic task of the audit (django-celery-beat). (Seats' own tasks, which this migration
created until they moved, are created by name in seats/migrations/0007_periodic_tasks.py.)

Created once by name: an administrator may change a time in the admin and no migration or
restart undoes it (rows that exist are left alone). Times are in TIME_ZONE.
"""

from django.conf import settings
from django.db import migrations

DAILY_AUDIT = "compliance: daily audit"


def create_periodic_tasks(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")

    def crontab(minute, hour):
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute=str(minute),
            hour=str(hour),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        return schedule

    wanted = [
        (
            DAILY_AUDIT,
            "compliance.tasks.run_daily_audit",
            {"crontab": crontab(0, 2)},
            "Audits every day since the last completed audit, then today.",
        ),
    ]
    created = False
    for name, task, schedule, description in wanted:
        _, was_created = PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "description": description, **schedule}
        )
        created |= was_created
    if created:
        # Tell a running beat (DatabaseScheduler) to reload its schedule.
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_periodic_tasks, migrations.RunPython.noop)]
