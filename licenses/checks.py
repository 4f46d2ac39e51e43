"""System checks: the license keys are usable, and the public demo key is never
trusted in production."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .keys import DEMO_KEY_IN_PRODUCTION, demo_key_setting_refused, demo_key_trusted
from .licensefile import parse_public_keys


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
