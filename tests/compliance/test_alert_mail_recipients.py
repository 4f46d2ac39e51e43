"""Who receives a utilisation alert's mail, and what it says, as the outbox holds it: the
compliance recipients for every alert; for an organization's share also its administrators and
supervisors who chose the alerts on their portal profile and may see its seat usage (not agents,
not inactive users, not users without an address, not another organization's), each address
once and in order. The mail's delivery through a worker is tests/compliance/
test_threshold_alert_mail.py."""

from datetime import UTC, date, datetime

import pytest

from compliance.models import ComplianceRecipient
from compliance.services import alert_mail_choose, threshold_alerts_mail
from notifications.models import OutboxMessage
from organizations.models import Membership, PortalFeature
from seats.models import ThresholdAlert
from tests.factories import MembershipFactory, OrganizationFactory, ServerFactory, UserFactory
from tests.history import history

DAY = date(2026, 3, 9)
AT = datetime(2026, 3, 9, 10, 30, tzinfo=UTC)
LABEL = "Agent access (IWP_Agent) Concurrent"
OPS = "ops@example.com"
ADMIN, SUPERVISOR, AGENT = (
    Membership.Role.ORG_ADMIN,
    Membership.Role.SUPERVISOR,
    Membership.Role.AGENT,
)


@pytest.fixture
def ops():
    ComplianceRecipient.objects.create(email=OPS, name="Ops")
    ComplianceRecipient.objects.create(email="former@example.com", is_active=False)


@pytest.fixture
def server():
    return ServerFactory(server_id="CIC-ALERTS")


@pytest.fixture
def northwind(server):
    return OrganizationFactory(server=server, name="Northwind")


def person(organization, username, role, *, opted_in=True, withheld=(), **fields):
    fields.setdefault("email", f"{username}@{organization.name.lower()}.example")
    user = UserFactory(username=username, threshold_alert_mail=opted_in, **fields)
    MembershipFactory(
        user=user, organization=organization, role=role, withheld_features=list(withheld)
    )
    return user


def alerts(server, organization, *thresholds, in_use=8, capacity=10, method="concurrent"):
    """One pool's (or organization's share's) alerts of one moment, created in the given order."""
    return [
        ThresholdAlert.objects.create(
            day=DAY,
            server=server,
            organization=organization,
            license_type="agent",
            method=method,
            threshold=t,
            in_use=in_use,
            capacity=capacity,
            created_at=AT,
        ).pk
        for t in thresholds
    ]


def mails():
    return list(OutboxMessage.objects.order_by("pk"))


@pytest.mark.django_db
def test_an_organizations_alert_goes_to_its_opted_in_admins_and_supervisors_only(
    server, northwind, ops
):
    contoso = OrganizationFactory(server=server, name="Contoso")
    person(northwind, "zoe", SUPERVISOR)
    person(northwind, "nadia", ADMIN)
    person(northwind, "sam", SUPERVISOR)
    person(northwind, "sam-desk", SUPERVISOR, email="sam@northwind.example")  # same address
    person(northwind, "olga", SUPERVISOR, withheld=[PortalFeature.EXPORTS])
    person(northwind, "sid", SUPERVISOR, opted_in=False)
    person(northwind, "ada", AGENT)
    person(northwind, "ivan", SUPERVISOR, is_active=False)
    person(northwind, "noel", SUPERVISOR, email="")
    person(northwind, "wendy", ADMIN, withheld=[PortalFeature.SEAT_USAGE])
    person(contoso, "carl", SUPERVISOR)
    [alert] = alerts(server, northwind, 80)

    returned = threshold_alerts_mail(alert_ids=[alert])

    to_ops, to_members = mails()
    assert returned == [to_ops, to_members]
    assert to_ops.to == [OPS]
    assert to_members.to == [
        "nadia@northwind.example",
        "olga@northwind.example",
        "sam@northwind.example",
        "zoe@northwind.example",
    ]
    assert (to_ops.dedupe_key, to_members.dedupe_key) == (
        f"threshold-alert:{alert}:recipients",
        f"threshold-alert:{alert}:organization",
    )
    subject = f"[IWP Licensing] Northwind: {LABEL} at 80% of its cap"
    assert (to_ops.subject, to_members.subject) == (subject, subject)
    said = (
        f"Northwind reached 80% of its cap of {LABEL} seats on server CIC-ALERTS on 2026-03-09: "
        "8 of 10 in use.\n"
        "\n"
        "At its cap, Northwind's next login or assignment of this license is refused, even when "
        "the server has seats free. An administrator can raise the cap (Pool shares).\n"
        "\n"
        "Each threshold is mailed once a day."
    )
    assert to_ops.body == said + "\n\nAll alerts: admin > Seats > Utilisation alerts."
    assert to_members.body == (
        said + "\n\nYou receive this because you chose utilisation alerts on your portal profile."
    )


@pytest.mark.django_db
def test_an_organization_nobody_opted_in_for_mails_only_the_compliance_recipients(
    server, northwind, ops
):
    person(northwind, "sid", SUPERVISOR, opted_in=False)
    person(northwind, "ada", AGENT)

    [to_ops] = threshold_alerts_mail(alert_ids=alerts(server, northwind, 90))

    assert mails() == [to_ops] and to_ops.to == [OPS]


@pytest.mark.django_db
def test_a_pool_alert_mails_the_compliance_recipients_and_no_organization(
    server, northwind, ops, settings
):
    settings.IWP_SITE_URL = "https://licensing.example/"
    person(northwind, "nadia", ADMIN)
    [alert] = alerts(server, None, 100, in_use=10)

    [mail] = threshold_alerts_mail(alert_ids=[alert])

    assert mails() == [mail]
    assert (mail.to, mail.dedupe_key) == ([OPS], f"threshold-alert:{alert}:recipients")
    assert mail.subject == f"[IWP Licensing] {LABEL} on server CIC-ALERTS at 100%"
    assert mail.body == (
        f"The {LABEL} seats of server CIC-ALERTS reached 100% on 2026-03-09: 10 of 10 in use.\n"
        "\n"
        "When all are in use, the next login or assignment is refused. Release seats that are "
        "not needed, or license more.\n"
        "\n"
        "Each threshold is mailed once a day.\n"
        "\n"
        "All alerts: admin > Seats > Utilisation alerts."
    )


@pytest.mark.django_db
def test_thresholds_passed_at_once_are_one_mail_for_the_highest_naming_the_others(
    server, northwind, ops, settings
):
    settings.IWP_SITE_URL = "https://intranet.example/LICENSING-BOX/"
    person(northwind, "nadia", ADMIN)
    whole_pool = alerts(server, None, 80, 90, 100, in_use=10)
    share = alerts(server, northwind, 90, 100, 80, in_use=5, capacity=5)
    other_pool = alerts(server, None, 80, method="assignable")

    returned = threshold_alerts_mail(alert_ids=[*whole_pool, *share, *other_pool])

    assert len(returned) == 4 and returned == mails()
    by_key = {m.dedupe_key: m for m in returned}
    top_of_share = share[1]
    assert set(by_key) == {
        f"threshold-alert:{whole_pool[2]}:recipients",
        f"threshold-alert:{top_of_share}:recipients",
        f"threshold-alert:{top_of_share}:organization",
        f"threshold-alert:{other_pool[0]}:recipients",
    }
    pool_mail = by_key[f"threshold-alert:{whole_pool[2]}:recipients"]
    assert pool_mail.subject == f"[IWP Licensing] {LABEL} on server CIC-ALERTS at 100%"
    assert "It passed 80%, 90% at the same moment." in pool_mail.body.splitlines()
    assert "/portal/org/" not in pool_mail.body  # no organization to link to

    member_mail = by_key[f"threshold-alert:{top_of_share}:organization"]
    assert member_mail.to == ["nadia@northwind.example"]
    assert member_mail.subject == f"[IWP Licensing] Northwind: {LABEL} at 100% of its cap"
    lines = member_mail.body.splitlines()
    assert lines[:3] == [
        f"Northwind reached 100% of its cap of {LABEL} seats on server CIC-ALERTS on "
        "2026-03-09: 5 of 5 in use.",
        "It passed 80%, 90% at the same moment.",
        "",
    ]
    link = f"Seat usage: https://intranet.example/LICENSING-BOX/portal/org/{northwind.pk}/"
    assert lines[-3:] == [
        link,
        "",
        "You receive this because you chose utilisation alerts on your portal profile.",
    ]
    assert link in by_key[f"threshold-alert:{top_of_share}:recipients"].body.splitlines()

    other = by_key[f"threshold-alert:{other_pool[0]}:recipients"]
    assert other.subject == (
        "[IWP Licensing] Agent access (IWP_Agent) Assignable on server CIC-ALERTS at 80%"
    )
    assert "It passed" not in other.body


@pytest.mark.django_db
def test_alert_mail_queries_do_not_grow_per_alert(
    server, northwind, ops, django_assert_num_queries
):
    """The alerts with their server and organization in one query, the recipients in one, the
    organization's subscribers in one, then the outbox's statements per mail; none at all when
    there is nothing to mail."""
    person(northwind, "nadia", ADMIN)
    ids = [
        *alerts(server, northwind, 80, 90, 100),
        *alerts(server, None, 80, 90),
        *alerts(server, None, 80, method="assignable"),
    ]
    # 4 mails, each the outbox's get-or-create: a select and an insert, each in a savepoint.
    with django_assert_num_queries(3 + 4 * 6):
        threshold_alerts_mail(alert_ids=ids)
    with django_assert_num_queries(0):  # nothing to mail: nothing read
        assert threshold_alerts_mail(alert_ids=[]) == []


@pytest.mark.django_db
def test_with_no_compliance_recipients_the_log_says_so_and_the_organization_is_still_mailed(
    server, northwind, settings, compliance_log
):
    settings.ADMINS = []
    person(northwind, "nadia", ADMIN)

    [mail] = threshold_alerts_mail(alert_ids=alerts(server, northwind, 80))

    assert mail.to == ["nadia@northwind.example"]
    assert [(r.levelname, r.getMessage()) for r in compliance_log] == [
        ("WARNING", "No compliance mail recipients: add one in the admin or set ADMINS")
    ]


@pytest.mark.django_db
def test_without_recipients_kept_in_the_admin_the_admins_setting_is_mailed(
    server, settings, compliance_log
):
    settings.ADMINS = [("Licensing Admin", "licensing-admin@example.com")]

    [mail] = threshold_alerts_mail(alert_ids=alerts(server, None, 80))

    assert mail.to == ["licensing-admin@example.com"]
    assert compliance_log == []


@pytest.mark.django_db
def test_choosing_the_alerts_on_the_profile_is_saved_for_the_user_and_recorded_as_theirs(
    northwind,
):
    nadia = person(northwind, "nadia", ADMIN, opted_in=False)

    assert alert_mail_choose(user=nadia, receive=True, acting_user=nadia) is True
    assert nadia.threshold_alert_mail is True
    nadia.refresh_from_db()
    assert nadia.threshold_alert_mail is True
    assert alert_mail_choose(user=nadia, receive=True, acting_user=nadia) is False
    assert alert_mail_choose(user=nadia, receive=False, acting_user=nadia) is True
    assert nadia.threshold_alert_mail is False

    changes = [(e.actor, e.changes) for e in history(nadia) if e.label == "update"]
    assert changes == [
        ("nadia", {"threshold_alert_mail": [False, True]}),
        ("nadia", {"threshold_alert_mail": [True, False]}),
    ]
