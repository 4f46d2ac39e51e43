"""The entitlement a warning is about now lives in the licenses app (same table, renamed)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0002_periodic_tasks"),
        ("licenses", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="expirywarning",
            name="entitlement",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="expiry_warnings",
                to="licenses.entitlement",
                verbose_name="entitlement",
            ),
        ),
    ]
