"""Utilisation alerts mailed through the outbox and a real Celery worker to a real SMTP server,
from real logins: one mail per threshold reached on a day, none for a second rise the same day,
afresh the next day; an organization's capped share also mails its administrators and
supervisors who chose it on their portal profile, and no one else's."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from compliance.models import ComplianceRecipient
from organizations.models import Membership
from seats.models import ThresholdAlert
from seats.services.shares import pool_share_set
from tests.factories import OrganizationFactory
from tests.seats.seat_helpers import login, member, setup_server

from ..notifications.smtp import body_of
from .test_worker import _wait_for, _worker

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("alert_caches_fresh"),
]


@pytest.fixture
def celery_worker(smtp_server, tmp_path):
    yield from _worker(smtp_server, tmp_path, "--pool", "solo")


@pytest.fixture
def ops():
    ComplianceRecipient.objects.create(email="ops@example.com", name="Ops")
    return "ops@example.com"


def log_in(*names):
    clients = {}
    for name in names:
        clients[name] = Client()
        assert login(clients[name], name).status_code == 302, name
    return clients


def mails_settle(smtp_server, n, *, quiet=1.0):
    """Wait for ``n`` mails, then a moment more: a further one, if there were one, would come."""
    assert _wait_for(lambda: len(smtp_server.messages) >= n), smtp_server.messages
    time.sleep(quiet)
    return smtp_server.messages


def subjects(messages):
    return [m["message"]["Subject"] for m in messages]


def test_logins_reaching_80_90_and_100_percent_mail_three_alerts_and_a_second_rise_none(
    licensed_server, smtp_server, celery_worker, ops
):
    server, organization = setup_server(licensed_server, ["agent:concurrent=10"])
    for i in range(10):
        member(organization, f"agent{i}")
    clients = log_in(*[f"agent{i}" for i in range(7)])  # 70%: below every threshold
    clients |= log_in("agent7", "agent8", "agent9")

    messages = mails_settle(smtp_server, 3)
    label = "Agent access (IWP_Agent) Concurrent on server CIC-SEATS"
    assert sorted(subjects(messages)) == [
        f"[IWP Licensing] {label} at 100%",
        f"[IWP Licensing] {label} at 80%",
        f"[IWP Licensing] {label} at 90%",
    ]
    assert all(m["rcpt"] == [ops] for m in messages)
    by_subject = {m["message"]["Subject"]: body_of(m["message"]) for m in messages}
    assert (
        "The Agent access (IWP_Agent) Concurrent seats of server CIC-SEATS reached 90% on "
        f"{timezone.localdate():%Y-%m-%d}: 9 of 10 in use."
    ) in by_subject[f"[IWP Licensing] {label} at 90%"]

    # Three log out (70%) and log in again (100%): nothing new today.
    for name in ("agent7", "agent8", "agent9"):
        clients[name].post("/accounts/logout/")
    log_in("agent7", "agent8", "agent9")
    assert len(mails_settle(smtp_server, 3)) == 3
    assert ThresholdAlert.objects.count() == 3


def test_the_next_day_mails_afresh(licensed_server, smtp_server, celery_worker, ops):
    server, organization = setup_server(licensed_server, ["agent:concurrent=10"])
    for i in range(8):
        member(organization, f"agent{i}")
    clients = log_in(*[f"agent{i}" for i in range(8)])
    assert len(mails_settle(smtp_server, 1)) == 1
    for client in clients.values():
        client.post("/accounts/logout/")

    tomorrow = timezone.localdate() + timedelta(days=1)
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        log_in(*[f"agent{i}" for i in range(8)])
        messages = mails_settle(smtp_server, 2)
    assert len(messages) == 2
    assert f"reached 80% on {tomorrow:%Y-%m-%d}: 8 of 10 in use" in body_of(messages[1]["message"])


def test_a_capped_organization_mails_its_opted_in_supervisors_and_no_one_elses(
    licensed_server, smtp_server, celery_worker, ops
):
    server, northwind = setup_server(licensed_server, ["agent:concurrent=20"])
    contoso = OrganizationFactory(server=server, name="Contoso")
    for organization in (northwind, contoso):
        pool_share_set(
            organization=organization,
            license_type="agent",
            method="concurrent",
            cap=5,
            acting_user=None,
        )
    admin_role, supervisor = Membership.Role.ORG_ADMIN, Membership.Role.SUPERVISOR
    people = {
        "nadia": member(northwind, "nadia", role=admin_role, email="nadia@northwind.example"),
        "sam": member(northwind, "sam", role=supervisor, email="sam@northwind.example"),
        "sid": member(northwind, "sid", role=supervisor, email="sid@northwind.example"),
        "carl": member(contoso, "carl", role=supervisor, email="carl@contoso.example"),
    }
    for name in ("nadia", "sam", "carl"):  # each opts in on their own profile page
        client = Client()
        client.force_login(people[name])
        response = client.post("/portal/profile/", {"threshold_alert_mail": "on"}, follow=True)
        assert "Saved: utilisation alerts are mailed to" in response.content.decode()
    for i in range(5):
        member(northwind, f"north{i}")
        member(contoso, f"contoso{i}")

    log_in(*[f"contoso{i}" for i in range(3)])  # 60% of Contoso's cap: nothing
    log_in(*[f"north{i}" for i in range(4)])  # 80% of Northwind's cap
    messages = mails_settle(smtp_server, 2)
    log_in("north4")  # 100% (and 90%) of it at once
    messages = mails_settle(smtp_server, 4)

    assert len(messages) == 4
    received = sorted(tuple(m["rcpt"]) for m in messages)
    assert received == [
        ("nadia@northwind.example", "sam@northwind.example"),
        ("nadia@northwind.example", "sam@northwind.example"),
        (ops,),
        (ops,),
    ]
    assert sorted(set(subjects(messages))) == [
        "[IWP Licensing] Northwind: Agent access (IWP_Agent) Concurrent at 100% of its cap",
        "[IWP Licensing] Northwind: Agent access (IWP_Agent) Concurrent at 80% of its cap",
    ]
    last = next(
        body_of(m["message"])
        for m in messages
        if m["rcpt"] != [ops] and "100%" in m["message"]["Subject"]
    )
    assert "Northwind reached 100% of its cap of Agent access (IWP_Agent) Concurrent seats" in last
    assert "5 of 5 in use" in last and "It passed 90% at the same moment." in last
    assert "you chose utilisation alerts on your portal profile" in last
