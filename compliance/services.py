"""The daily compliance audit: record each exceeded license once per day, log it, and mail it
through the outbox."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from licenses.audit import acting_as
from licenses.models import license_label
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from organizations.models import User
from seats.models import ThresholdAlert

from . import selectors
from .models import AuditRun, AuditTrigger, ComplianceEvent, ExpiryWarning
from .renewal import HISTORY_DAYS, RenewalLine, renewal_for_servers

logger = logging.getLogger("iwp_licensing.compliance")

# pg_advisory_xact_lock key: runs of the audit queue behind each other instead of interleaving.
_AUDIT_LOCK_KEY = 0x1A0D17
# A beat outage longer than this is caught up only for its last days.
MAX_CATCH_UP_DAYS = 31


def _lock_audit() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_KEY])


def _digest(parts) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def compliance_audit_run(
    *, day: date, trigger: str = AuditTrigger.SCHEDULE, acting_user: User | None = None
) -> AuditRun:
    """Audit ``day``: one event per exceeded license and one expiry warning per entitlement and
    threshold, each recorded once however often the day is audited, and one e-mail per run for
    what is new, written to the outbox in this transaction and sent after commit. Runs of the
    audit take turns (an advisory lock), so what is new is decided before anything is written.
    A fixed number of queries, whatever the number of servers, organizations and seats.
    """
    with transaction.atomic(durable=True), acting_as(acting_user):
        _lock_audit()
        in_force = selectors.entitlements_in_force(day=day)
        findings = selectors.audit_findings(day=day, entitlements=in_force)
        exceeded = [f for f in findings if f.exceeded]
        recorded = selectors.exceeded_recorded(day=day) if exceeded else set()
        new_events = [
            ComplianceEvent(
                server=f.server,
                day=day,
                license_type=f.license_type,
                method=f.method,
                licensed_count=f.licensed,
                found_count=f.found,
                message=f.message,
            )
            for f in exceeded
            if (f.server.pk, f.license_type, f.method) not in recorded
        ]
        expiring = selectors.expiring_entitlements(day=day, entitlements=in_force)
        warned = selectors.warnings_recorded(entitlements=[e for e, _ in expiring])
        new_warnings = [
            ExpiryWarning(
                server=e.license_file.server,
                entitlement=e,
                license_type=e.license_type,
                method=e.method,
                expires_on=e.expires_on,
                threshold_days=threshold,
                day=day,
                message=_expiry_message(entitlement=e, day=day),
            )
            for e, threshold in expiring
            if (e.pk, threshold) not in warned
        ]
        mail = warning_mail = None
        if new_events or new_warnings:
            recipients = selectors.compliance_recipients()
            if recipients and new_events:
                mail = outbox_enqueue(
                    subject=(
                        f"[IWP Licensing] {len(new_events)} license(s) exceeded on {day:%Y-%m-%d}"
                    ),
                    body=_exceeded_body(day=day, events=new_events),
                    to=recipients,
                    dedupe_key="compliance:exceeded:{}:{}".format(
                        day,
                        _digest(f"{e.server_id}/{e.license_type}/{e.method}" for e in new_events),
                    ),
                )
            if recipients and new_warnings:
                warning_mail = outbox_enqueue(
                    subject=f"[IWP Licensing] {len(new_warnings)} license(s) expire soon",
                    body=_warning_body(
                        day=day,
                        warnings=new_warnings,
                        renewal=renewal_for_servers(
                            servers=list({w.server.pk: w.server for w in new_warnings}.values()),
                            day=day,
                        ),
                    ),
                    to=recipients,
                    dedupe_key="compliance:expiry:{}:{}".format(
                        day,
                        _digest(f"{w.entitlement_id}/{w.threshold_days}" for w in new_warnings),
                    ),
                )
            if not recipients:
                logger.warning("No compliance mail recipients: add one in the admin or set ADMINS")
        run = AuditRun.objects.create(
            day=day,
            trigger=trigger,
            licenses_checked=len(findings),
            exceeded_found=len(exceeded),
            events_recorded=len(new_events),
            warnings_recorded=len(new_warnings),
            finished_at=timezone.now(),
            mail=mail,
            warning_mail=warning_mail,
        )
        for record in (*new_events, *new_warnings):
            record.run = run
        if new_events:
            ComplianceEvent.objects.bulk_create(new_events)
        if new_warnings:
            ExpiryWarning.objects.bulk_create(new_warnings)
        transaction.on_commit(
            lambda: _log_new(run_id=run.pk, events=new_events, warnings=new_warnings)
        )
    return run


def compliance_audit_catch_up(
    *, today: date | None = None, trigger: str = AuditTrigger.SCHEDULE
) -> list[AuditRun]:
    """The scheduled audit: the day that ended (yesterday in TIME_ZONE), and before it every day
    missed since the last day judged whole (at most MAX_CATCH_UP_DAYS), each from what was held
    on that day."""
    today = today or timezone.localdate()
    ended = today - timedelta(days=1)
    last = selectors.last_completed_audit_day()
    first = (
        ended
        if last is None
        else max(last + timedelta(days=1), today - timedelta(days=MAX_CATCH_UP_DAYS))
    )
    runs = []
    day = first
    while day <= ended:
        runs.append(
            compliance_audit_run(
                day=day, trigger=trigger if day == ended else AuditTrigger.CATCH_UP
            )
        )
        day += timedelta(days=1)
    return runs


def _expiry_message(*, entitlement, day: date) -> str:
    days_left = (entitlement.expires_on - day).days
    when = "today" if days_left == 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
    return (
        f"{entitlement} of license file {entitlement.license_file.serial} "
        f"(server {entitlement.license_file.server.server_id}) "
        f"expires {when}: its last valid day is {entitlement.expires_on:%Y-%m-%d}"
    )[:400]


def _mail_body(*, day: date, items, found: str, closing: str) -> str:
    """One audit mail: what the audit of ``day`` found, one line per event or warning."""
    return "\n".join(
        [
            f"The compliance audit of {day:%Y-%m-%d} found {len(items)} license(s) {found}:",
            "",
            *[f"- {item.message}" for item in items],
            "",
            closing,
        ]
    )


def _exceeded_body(*, day: date, events) -> str:
    return _mail_body(
        day=day,
        items=events,
        found="exceeded",
        closing=(
            "Each is recorded once as a compliance event "
            "(admin: Compliance audit > Compliance events)."
        ),
    )


def _warning_body(*, day: date, warnings, renewal: dict[int, list[RenewalLine]]) -> str:
    tables = [_renewal_table(lines) for lines in renewal.values() if lines]
    return _mail_body(
        day=day,
        items=warnings,
        found="about to expire",
        closing="\n\n".join(
            [
                "Install a renewed license file before then (admin: Licenses > License files).",
                *tables,
            ]
        ),
    )


def _renewal_table(lines: list[RenewalLine]) -> str:
    """What to buy at renewal, as a plain-text table (the admin's Renewal page, in a mail)."""
    server = lines[0].server
    header = ("License", "Licensed", "Peak 90d", "Denials 90d", "Projected", "Recommended", "Diff")
    rows = [
        (
            line.label,
            line.quantity,
            line.peak_90,
            line.denials,
            line.projected_peak,
            line.recommended,
            f"{line.difference:+d}",
        )
        for line in lines
    ]
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]

    def fmt(row) -> str:
        cells = [str(row[0]).ljust(widths[0])]
        cells += [str(v).rjust(w) for v, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    notes = [f"  {line.label}: {line.projection.note}" for line in lines if line.projection.note]
    return "\n".join(
        [
            f"Renewal forecast for server {server.server_id}: the peak of the last "
            f"{HISTORY_DAYS} days projected to each license's expiry, plus "
            f"{lines[0].headroom_percent}% headroom (admin: Compliance audit > "
            "Renewal forecasts).",
            "",
            fmt(header),
            *(fmt(r) for r in rows),
            *(["", "Too little history to trust:", *notes] if notes else []),
        ]
    )


def _log_new(*, run_id: int, events, warnings) -> None:
    for e in events:
        logger.error(
            e.message,
            extra={
                "event": "license_exceeded",
                "audit_run": run_id,
                "day": e.day.isoformat(),
                "server": e.server.server_id,
                "license": e.license_type,
                "method": e.method or "-",
                "licensed": e.licensed_count,
                "found": e.found_count,
            },
        )
    for w in warnings:
        logger.warning(
            w.message,
            extra={
                "event": "license_expiring",
                "audit_run": run_id,
                "day": w.day.isoformat(),
                "server": w.server.server_id,
                "license": w.license_type,
                "method": w.method or "-",
                "expires_on": w.expires_on.isoformat(),
                "threshold_days": w.threshold_days,
            },
        )


def threshold_alerts_mail(*, alert_ids: list[int]) -> list[OutboxMessage]:
    """Mail new utilisation alerts (seats/services/alerts.py) through the outbox, in the caller's
    transaction: one mail per pool or organization's share, for its highest threshold, to the
    compliance recipients; for an organization's share, a second mail to its administrators and
    supervisors who chose to receive alerts (never another organization's, and neither audience
    sees the other's addresses). Three queries, and one per mail."""
    alerts = list(
        ThresholdAlert.objects.filter(pk__in=alert_ids)
        .select_related("server", "organization")
        .order_by("threshold")
    )
    groups: dict[tuple, list[ThresholdAlert]] = {}
    for alert in alerts:
        key = (alert.day, alert.server_id, alert.organization_id, alert.license_type, alert.method)
        groups.setdefault(key, []).append(alert)
    admins = selectors.compliance_recipients() if groups else []
    mails = []
    for group in groups.values():
        top = group[-1]
        subject, body = _alert_mail(top, also=[a.threshold for a in group[:-1]])
        if admins:
            mails.append(
                outbox_enqueue(
                    subject=subject,
                    body=body + "\n\nAll alerts: admin > Seats > Utilisation alerts.",
                    to=admins,
                    dedupe_key=f"threshold-alert:{top.pk}:recipients",
                )
            )
        else:
            logger.warning("No compliance mail recipients: add one in the admin or set ADMINS")
        if top.organization_id is not None:
            members = selectors.alert_subscribers(organization_id=top.organization_id)
            if members:
                mails.append(
                    outbox_enqueue(
                        subject=subject,
                        body=body
                        + "\n\nYou receive this because you chose utilisation alerts on your "
                        "portal profile.",
                        to=members,
                        dedupe_key=f"threshold-alert:{top.pk}:organization",
                    )
                )
    return mails


def _alert_mail(alert: ThresholdAlert, *, also: list[int]) -> tuple[str, str]:
    label = license_label(alert.license_type, alert.method)
    server = alert.server.server_id
    if alert.organization_id is None:
        subject = f"[IWP Licensing] {label} on server {server} at {alert.threshold}%"
        what = (
            f"The {label} seats of server {server} reached {alert.threshold}% on "
            f"{alert.day:%Y-%m-%d}: {alert.in_use} of {alert.capacity} in use."
        )
        advice = (
            "When all are in use, the next login or assignment is refused. Release seats that "
            "are not needed, or license more."
        )
    else:
        name = alert.organization.name
        subject = f"[IWP Licensing] {name}: {label} at {alert.threshold}% of its cap"
        what = (
            f"{name} reached {alert.threshold}% of its cap of {label} seats on server {server} "
            f"on {alert.day:%Y-%m-%d}: {alert.in_use} of {alert.capacity} in use."
        )
        advice = (
            f"At its cap, {name}'s next login or assignment of this license is refused, even "
            "when the server has seats free. An administrator can raise the cap (Pool shares)."
        )
    lines = [what]
    if also:
        lines.append("It passed " + ", ".join(f"{t}%" for t in also) + " at the same moment.")
    lines += ["", advice, "", "Each threshold is mailed once a day."]
    if alert.organization_id is not None and settings.IWP_SITE_URL:
        lines.append(
            f"Seat usage: {settings.IWP_SITE_URL.rstrip('/')}/portal/org/{alert.organization_id}/"
        )
    return subject, "\n".join(lines)


def alert_mail_choose(*, user: User, receive: bool, acting_user: User) -> bool:
    """Whether ``user`` receives the utilisation alerts of the organizations they supervise or
    administer (their portal profile). Returns whether anything changed."""
    with transaction.atomic(), acting_as(acting_user):
        changed = bool(
            User.objects.filter(pk=user.pk)
            .exclude(threshold_alert_mail=receive)
            .update(threshold_alert_mail=receive)
        )
    user.threshold_alert_mail = receive
    return changed
