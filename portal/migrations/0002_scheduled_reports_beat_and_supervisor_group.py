"""Data: the beat entry that runs scheduled reports, and a "Portal supervisors" group with every portal feature.

Both are created by name and never overwritten: an administrator's change to the schedule or to
the group survives every later migrate.
"""

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

TASK_NAME = "Portal: run due scheduled reports"
GROUP_NAME = "Portal supervisors"
CODENAMES = [
    "view_seat_usage",
    "view_seat_holders",
    "view_usage_history",
    "export_seat_data",
    "view_compliance",
    "view_wallboard",
    "use_scheduled_reports",
]


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # Hourly at :15, so that a report is sent within the hour after its period ends (time zone: CELERY_TIMEZONE).
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="15",
        hour="*",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "portal.run_scheduled_reports",
            "crontab": crontab,
            "enabled": True,
            "description": "Runs each active scheduled report once for its last complete period.",
        },
    )

    # Permissions are normally created after migrate; create them now so the group can hold them.
    app_config = apps.get_app_config("portal")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, created = Group.objects.get_or_create(name=GROUP_NAME)
    if created:
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="portal", codename__in=CODENAMES)
        )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
