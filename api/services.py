"""API keys: create (shown once), revoke, and find the key a request carries."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from licenses.audit import acting_as
from organizations.models import Server, User

from . import sql
from .models import ApiKey

KEY_PREFIX = "iwp"
# last_used_at is written at most this often per key: a heartbeat costs no second write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_create(*, server: Server, name: str, acting_user: User | None) -> tuple[ApiKey, str]:
    """A new key for ``server``; returns it and the raw key, which is never shown again."""
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic(), acting_as(acting_user):
        key = ApiKey(
            server=server,
            name=name.strip(),
            prefix=prefix,
            key_hash=_hash(raw),
            created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        )
        key.full_clean()
        key.save()
    return key, raw


def api_key_revoke(*, key: ApiKey, acting_user: User | None, now: datetime | None = None) -> bool:
    """Revoke ``key``: every later request with it gets 401. False when it was revoked already."""
    with transaction.atomic(), acting_as(acting_user):
        revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=now or timezone.now()
        )
    return bool(revoked)


def api_key_authenticate(raw_key: str, *, now: datetime | None = None) -> ApiKey | None:
    """The active key ``raw_key`` is, with its server; None for an unknown, malformed or revoked
    key. One query (and one UPDATE of last_used_at a minute)."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = sql.active_key(parts[1])
    if key is None or not hmac.compare_digest(key.key_hash, _hash(raw_key)):
        return None
    now = now or timezone.now()
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
