"""The status badges of a seat pool, shown on the seat-usage page and the wallboard.

Each state has its own colour, its own symbol and its own words, so none is told by colour alone
(WCAG 1.4.1): a full pool, one over its count but within the overage allowance, one beyond the
allowance, and a license about to expire must never look alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format

from licenses.models import UsageState

FULL = "full"
THRESHOLD = "threshold"


@dataclass(frozen=True)
class Badge:
    kind: str  # the CSS class: exceeded, overage, full, expiring, expired, missing, starts, valid
    icon: str  # a symbol beside the words, hidden from screen readers (the words say it)
    text: str
    title: str = ""


def pool_state(*, usage_state: str | None, licensed: int, available: int) -> str | None:
    """How the pool stands for somebody wanting a seat: exceeded (beyond the allowance),
    overage (over the count, within the allowance), full (no seat free now), or None."""
    if usage_state in (UsageState.EXCEEDED, UsageState.OVERAGE):
        return str(usage_state)
    if licensed > 0 and available <= 0:
        return FULL
    return None


POOL_BADGES = {
    UsageState.EXCEEDED.value: Badge(
        "exceeded",
        "✖",
        "Exceeded",
        "More seats in use today than the license and its overage allowance allow.",
    ),
    UsageState.OVERAGE.value: Badge(
        "overage",
        "▲",
        "Over the count, within allowance",
        "More seats in use today than licensed, within the overage allowance: "
        "the daily audit reports the day.",
    ),
    FULL: Badge("full", "■", "Full", "Every licensed seat is in use: the next request waits."),
}


def threshold_badge(*, threshold: int, in_use: int, of: int, cap: bool = False) -> Badge:
    """A utilisation alert threshold (IWP_ALERT_THRESHOLDS) reached now: by the pool, or by the
    organization against its cap."""
    whose = "this organization's cap" if cap else "the server's seats"
    return Badge(
        THRESHOLD,
        "◔",
        f"≥ {threshold}%" + (" of cap" if cap else ""),
        f"{in_use} of {of} in use: {whose} at or above the {threshold}% alert threshold.",
    )


def usage_badges(
    *,
    pool: str | None,
    state: str,
    starts_on: date | None,
    expires_on: date | None,
    thresholds: list[Badge] = (),
) -> list[Badge]:
    """The pool's badge (if any), the alert thresholds reached, and the license's validity badge.
    A plain "valid" is shown only when nothing else is: it would only repeat that all is well."""
    badges = [POOL_BADGES[pool]] if pool else []
    badges += thresholds
    if state == "expiring":
        badges.append(Badge("expiring", "◷", f"Expires {date_format(expires_on, 'j M')}"))
    elif state == "expired":
        badges.append(Badge("expired", "✖", "Expired"))
    elif state == "missing":
        badges.append(Badge("missing", "✖", "Not licensed"))
    elif state == "not_started":
        badges.append(Badge("starts", "◷", f"Starts {date_format(starts_on, 'j M Y')}"))
    elif not badges:
        badges.append(Badge("valid", "✓", f"Valid to {date_format(expires_on, 'j M Y')}"))
    return badges
