"""LicenseFile and Entitlement move here from seats, data and all.

The tables are renamed, not recreated; their content types (and so their permissions and any
history that names them) move with them.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ["licensefile", "entitlement"]


def move_content_types(apps, schema_editor, source="seats", target="licenses"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model__in=MOVED).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="licenses", target="seats")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("organizations", "0002_name_indexes_for_admin_search"),
        ("seats", "0003_lease_session_index"),
        # The last migration that names the tables at their old place (its foreign key).
        ("compliance", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE seats_licensefile RENAME TO licenses_licensefile",
                    "ALTER TABLE licenses_licensefile RENAME TO seats_licensefile",
                ),
                migrations.RunSQL(
                    "ALTER TABLE seats_entitlement RENAME TO licenses_entitlement",
                    "ALTER TABLE licenses_entitlement RENAME TO seats_entitlement",
                ),
                migrations.RunPython(move_content_types, move_content_types_back),
            ],
            state_operations=[
                migrations.CreateModel(
                    name="LicenseFile",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "serial",
                            models.CharField(max_length=100, unique=True, verbose_name="serial"),
                        ),
                        ("customer", models.CharField(max_length=200, verbose_name="customer")),
                        ("issued_on", models.DateField(verbose_name="issued on")),
                        ("key_id", models.CharField(max_length=64, verbose_name="signing key id")),
                        (
                            "content",
                            models.TextField(
                                help_text="The file exactly as it was signed.",
                                verbose_name="file content",
                            ),
                        ),
                        (
                            "installed_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="installed"),
                        ),
                        (
                            "replaced_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="replaced"),
                        ),
                        (
                            "installed_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="installed by",
                            ),
                        ),
                        (
                            "server",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="license_files",
                                to="organizations.server",
                                verbose_name="server",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "license file",
                        "verbose_name_plural": "license files",
                        "ordering": ["server__server_id", "-installed_at"],
                    },
                ),
                migrations.CreateModel(
                    name="Entitlement",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "license_type",
                            models.CharField(
                                choices=[
                                    ("server", "Server"),
                                    ("organization", "Organization"),
                                    ("supervisor", "Supervisor access (IWP_Supervisor)"),
                                    ("agent", "Agent access (IWP_Agent)"),
                                    ("marquee", "Marquee"),
                                    ("scheduled_reports", "Scheduled Reports"),
                                ],
                                max_length=30,
                                verbose_name="license",
                            ),
                        ),
                        (
                            "method",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("", "—"),
                                    ("assignable", "Assignable"),
                                    ("concurrent", "Concurrent"),
                                ],
                                default="",
                                max_length=20,
                                verbose_name="method",
                            ),
                        ),
                        (
                            "quantity",
                            models.PositiveIntegerField(
                                blank=True,
                                help_text="Empty for flags.",
                                null=True,
                                verbose_name="quantity",
                            ),
                        ),
                        (
                            "overage_percent",
                            models.PositiveSmallIntegerField(
                                default=0,
                                help_text="Enforcement refuses beyond quantity × (1 + overage); the audit reports anything beyond quantity.",
                                verbose_name="overage allowance (%)",
                            ),
                        ),
                        ("starts_on", models.DateField(verbose_name="valid from")),
                        (
                            "expires_on",
                            models.DateField(
                                help_text="Last day the entitlement is valid.",
                                verbose_name="expires on",
                            ),
                        ),
                        (
                            "license_file",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="entitlements",
                                to="licenses.licensefile",
                                verbose_name="license file",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "entitlement",
                        "verbose_name_plural": "entitlements",
                        "ordering": ["license_file", "license_type", "method"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="licensefile",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("replaced_at__isnull", True)),
                        fields=("server",),
                        name="licensefile_one_installed_per_server",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="entitlement",
                    constraint=models.UniqueConstraint(
                        fields=("license_file", "license_type", "method"),
                        name="entitlement_unique_line_per_file",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="entitlement",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("starts_on__lte", models.F("expires_on"))),
                        name="entitlement_starts_before_expiry",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="entitlement",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("overage_percent__lte", 1000)),
                        name="entitlement_overage_at_most_1000pct",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="entitlement",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("license_type__in", ("supervisor", "agent")),
                                ("method__in", ["assignable", "concurrent"]),
                                ("quantity__isnull", False),
                            ),
                            models.Q(
                                ("license_type", "organization"),
                                ("method", ""),
                                ("quantity__isnull", False),
                            ),
                            models.Q(
                                ("license_type__in", ("server", "marquee", "scheduled_reports")),
                                ("method", ""),
                                ("overage_percent", 0),
                                ("quantity__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="entitlement_shape_matches_type",
                    ),
                ),
            ],
        ),
    ]
