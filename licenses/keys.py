"""The public keys this installation trusts to sign license files."""

from functools import cache
from pathlib import Path

from django.conf import settings

from .licensefile import load_private_key, parse_public_keys

DEMO_PRIVATE_KEY_PATH = Path(__file__).parent / "demo_key" / "DEMO-DEVELOPMENT-ONLY-private-key.pem"


@cache
def demo_private_key():
    return load_private_key(DEMO_PRIVATE_KEY_PATH.read_bytes())


def trusted_public_keys():
    """Key id -> public key, from IWP_LICENSE_PUBLIC_KEYS, plus the demo key while it is trusted."""
    keys = parse_public_keys(settings.IWP_LICENSE_PUBLIC_KEYS)
    if settings.IWP_TRUST_DEMO_KEY:
        from .licensefile import key_id_for

        demo_public = demo_private_key().public_key()
        keys.setdefault(key_id_for(demo_public), demo_public)
    return keys
