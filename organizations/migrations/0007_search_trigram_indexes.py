"""Trigram indexes for the admin's search (issue 12): ``icontains`` on a million users read every
row; these indexes answer ``UPPER(col) LIKE UPPER('%term%')`` directly. Built concurrently, so
logins and imports are not blocked while a large table is indexed."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations
from django.db.models.functions import Upper


def trigram_index(model_name, field, name):
    return AddIndexConcurrently(
        model_name=model_name,
        index=GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=name),
    )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("organizations", "0006_membership_withheld_manage"),
    ]

    operations = [
        TrigramExtension(),
        trigram_index("organization", "name", "organization_name_trgm"),
        trigram_index("station", "name", "station_name_trgm"),
        trigram_index("user", "username", "user_username_trgm"),
        trigram_index("user", "email", "user_email_trgm"),
        trigram_index("user", "first_name", "user_first_name_trgm"),
        trigram_index("user", "last_name", "user_last_name_trgm"),
    ]
