"""The Celery application. Periodic tasks live in the database (django-celery-beat)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iwp_licensing.settings")

app = Celery("iwp_licensing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
