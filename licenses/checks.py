"""System checks: the license keys are usable, and the public demo key is never trusted in
production, nor a license it signed left in force there."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from .keys import DEMO_KEY_IN_PRODUCTION, demo_key_setting_refused, demo_key_trusted
from .licensefile import parse_public_keys
from .selectors import license_files_signed_with_demo_key


@register(Tags.security)
def check_license_keys(app_configs, **kwargs):
    errors = []
    try:
        parse_public_keys(settings.IWP_LICENSE_PUBLIC_KEYS)
    except ValueError as exc:
        return [
            Error(
                str(exc),
                hint="Give each key as printed by generate_license_key.",
                id="licenses.E002",
            )
        ]
    if demo_key_setting_refused():
        errors.append(
            Error(
                DEMO_KEY_IN_PRODUCTION,
                hint="Unset IWP_TRUST_DEMO_KEY in production.",
                id="licenses.E001",
            )
        )
    return errors


@register(Tags.security)
def check_no_demo_signed_license_in_force(app_configs, **kwargs):
    """Run with and without --deploy: a license the public demo key signed may have been
    installed while the key was trusted; with DEBUG off it must be replaced."""
    try:
        files = list(license_files_signed_with_demo_key())
    except DatabaseError:
        return []  # no database (yet): nothing is installed to judge
    if not files:
        return []
    servers = ", ".join(f"{f.server.server_id} (license {f.serial})" for f in files)
    return [
        Error(
            f"Licenses signed by the public demo key are in force with DEBUG off: {servers}.",
            hint=(
                "Anybody can sign with the demo key. Install a license file signed by the vendor "
                "on each of these servers: the admin's Install a license file page, or "
                "manage.py import_license --skip-checks FILE."
            ),
            id="licenses.E003",
        )
    ]


@register(Tags.security, deploy=True)
def check_license_keys_configured(app_configs, **kwargs):
    errors = []
    try:
        keys = parse_public_keys(settings.IWP_LICENSE_PUBLIC_KEYS)
    except ValueError:
        return errors  # reported by licenses.E002
    if not keys and not demo_key_trusted():
        errors.append(
            Warning(
                "IWP_LICENSE_PUBLIC_KEYS is empty: no license file can be installed.",
                hint="Set it to the vendor's public key(s), comma-separated.",
                id="licenses.W003",
            )
        )
    return errors
