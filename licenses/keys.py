"""The public keys this installation trusts to sign license files, and the public demo key, which
signs licenses on a development machine only (DEBUG on)."""

from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .licensefile import key_id_for, load_private_key, parse_public_keys

DEMO_PRIVATE_KEY_PATH = Path(__file__).parent / "demo_key" / "DEMO-DEVELOPMENT-ONLY-private-key.pem"


@cache
def demo_private_key():
    return load_private_key(DEMO_PRIVATE_KEY_PATH.read_bytes())


@cache
def demo_key_id() -> str:
    return key_id_for(demo_private_key().public_key())


def demo_key_trusted() -> bool:
    """Anybody can sign with the demo key (it is in the repository): it is trusted only while
    IWP_TRUST_DEMO_KEY is on *and* DEBUG is on, whatever else says so."""
    return bool(settings.IWP_TRUST_DEMO_KEY and settings.DEBUG)


def is_demo_signed_in_production(key_id: str) -> bool:
    """A license file signed with ``key_id`` is signed by the public demo key, and this is not a
    development machine: it is not to be installed, nor trusted if it is."""
    return not settings.DEBUG and key_id == demo_key_id()


DEMO_KEY_IN_PRODUCTION = (
    "IWP_TRUST_DEMO_KEY is on with DEBUG off: the public demo key, which anybody can sign "
    "with, is never trusted in production."
)


def demo_key_setting_refused() -> bool:
    """The setting asks to trust the demo key where it never is: a mistake to report."""
    return bool(settings.IWP_TRUST_DEMO_KEY and not settings.DEBUG)


def refuse_demo_key_in_production() -> None:
    """Raise ImproperlyConfigured when IWP_TRUST_DEMO_KEY is on with DEBUG off: for the WSGI
    application, which starts without running the system checks (licenses.E001)."""
    if demo_key_setting_refused():
        raise ImproperlyConfigured(
            f"{DEMO_KEY_IN_PRODUCTION} Unset IWP_TRUST_DEMO_KEY (or set it to 0) in production."
        )


def trusted_public_keys():
    """Key id -> public key, from IWP_LICENSE_PUBLIC_KEYS, plus the demo key while it is
    trusted (demo_key_trusted), and never otherwise, even when IWP_LICENSE_PUBLIC_KEYS lists it."""
    keys = parse_public_keys(settings.IWP_LICENSE_PUBLIC_KEYS)
    if demo_key_trusted():
        keys[demo_key_id()] = demo_private_key().public_key()
    else:
        keys.pop(demo_key_id(), None)
    return keys
