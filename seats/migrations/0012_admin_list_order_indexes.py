"""Indexes for the admin's lists, which show the newest seats first (issue 12): without them
each page sorted every seat ever taken. Built concurrently: logins keep taking seats meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("seats", "0011_pool_shares"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="seatassignment",
            index=models.Index(fields=["assigned_at", "id"], name="seatassignment_assigned_at"),
        ),
        AddIndexConcurrently(
            model_name="seatlease",
            index=models.Index(fields=["acquired_at", "id"], name="seatlease_acquired_at"),
        ),
        AddIndexConcurrently(
            model_name="stationoccupancy",
            index=models.Index(fields=["since", "id"], name="stationoccupancy_since"),
        ),
    ]
