"""The audit trail (django-pghistory) of an object as tests read it: what its History page lists."""

from __future__ import annotations

from dataclasses import dataclass

from pghistory.models import Events

from organizations.models import User


@dataclass(frozen=True)
class Entry:
    label: str  # "insert", "update" or "delete"
    actor: str | None  # the username the change was made for
    remote_addr: str | None
    url: str | None
    changes: dict  # field -> [before, after] (updates only)


def history(obj) -> list[Entry]:
    """Every recorded change of ``obj``, oldest first."""
    events = list(Events.objects.tracks(obj).order_by("pgh_created_at", "pgh_id"))
    contexts = [e.pgh_context or {} for e in events]
    names = dict(
        User.objects.filter(pk__in={c.get("user") for c in contexts}).values_list("pk", "username")
    )
    return [
        Entry(
            label=e.pgh_label,
            actor=names.get(c.get("user")),
            remote_addr=c.get("remote_addr"),
            url=c.get("url"),
            changes=e.pgh_diff or {},
        )
        for e, c in zip(events, contexts, strict=True)
    ]
