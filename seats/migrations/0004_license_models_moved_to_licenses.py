"""LicenseFile and Entitlement now belong to the licenses app (licenses 0001 renamed their tables)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0003_entitlement_in_licenses"),
        ("seats", "0003_lease_session_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="licensefile",
                    name="installed_by",
                ),
                migrations.RemoveField(
                    model_name="licensefile",
                    name="server",
                ),
                migrations.DeleteModel(
                    name="Entitlement",
                ),
                migrations.DeleteModel(
                    name="LicenseFile",
                ),
            ],
        ),
    ]
