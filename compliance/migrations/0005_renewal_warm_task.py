"""The periodic task that fits the day's renewal projections ahead of the first page
(django-celery-beat), an hour after the audit. Created once by name, as 0002's: a time an
administrator changed in the admin is left alone."""

from django.conf import settings
from django.db import migrations

WARM_RENEWAL = "compliance: renewal forecasts"


def create_periodic_task(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    _, created = PeriodicTask.objects.get_or_create(
        name=WARM_RENEWAL,
        defaults={
            "task": "compliance.tasks.warm_renewal_forecasts",
            "crontab": schedule,
            "description": "Fits today's renewal projections of every server and organization.",
        },
    )
    if created:
        from django.utils import timezone

        PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_periodic_task(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=WARM_RENEWAL).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0004_server_renewal_proxy"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_periodic_task, remove_periodic_task)]
