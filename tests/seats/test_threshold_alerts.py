"""Utilisation alerts through real logins and assignments: each threshold of a pool (and of an
organization's capped share) is recorded and logged the first time it is reached on a day, never
twice that day, and a login below every threshold costs no query more than without alerts.
(The mail they send, through a real worker: tests/compliance/test_threshold_alert_mail.py.)"""

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from iwp_licensing.settings import parse_alert_thresholds
from seats.models import ThresholdAlert
from seats.services import alerts
from seats.services.assignments import seat_assign_bulk
from seats.services.shares import pool_share_set
from tests.factories import OrganizationFactory
from tests.logs import records_of

from .seat_helpers import login, member, setup_server

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alert_caches_fresh")]


@pytest.fixture
def alert_log():
    """Records emitted on iwp_licensing.alerts (it does not propagate to the root logger)."""
    with records_of("iwp_licensing.alerts") as records:
        yield records


@pytest.fixture
def pool_of_ten(licensed_server):
    server, organization = setup_server(licensed_server, ["agent:concurrent=10"])
    agents = [member(organization, f"agent{i}") for i in range(10)]
    return server, organization, agents


def logins(django_capture_on_commit_callbacks, names):
    """Each user logs in on their own browser; what runs after each commit runs."""
    clients = {}
    for name in names:
        clients[name] = Client()
        with django_capture_on_commit_callbacks(execute=True):
            assert login(clients[name], name).status_code == 302, name
    return clients


def recorded(**where):
    return list(
        ThresholdAlert.objects.filter(**where)
        .order_by("day", "threshold")
        .values_list("day", "threshold", "in_use", "capacity")
    )


def test_logins_crossing_80_90_and_100_percent_record_and_log_each_threshold_once(
    pool_of_ten, alert_log, django_capture_on_commit_callbacks
):
    server, organization, agents = pool_of_ten
    today = timezone.localdate()
    logins(django_capture_on_commit_callbacks, [f"agent{i}" for i in range(7)])
    assert recorded() == []  # 70%: below every threshold
    logins(django_capture_on_commit_callbacks, ["agent7", "agent8", "agent9"])

    assert recorded(server=server, organization=None) == [
        (today, 80, 8, 10),
        (today, 90, 9, 10),
        (today, 100, 10, 10),
    ]
    assert [r.getMessage() for r in alert_log] == [
        f"Agent access (IWP_Agent) Concurrent on server CIC-SEATS reached {t}%: "
        f"{n} of 10 seats in use"
        for t, n in ((80, 8), (90, 9), (100, 10))
    ]
    first = alert_log[0]
    assert first.levelno == logging.WARNING
    assert (first.event, first.server, first.organization, first.license, first.method) == (
        "threshold_reached",
        "CIC-SEATS",
        "-",
        "agent",
        "concurrent",
    )
    assert (first.threshold, first.in_use, first.capacity, first.day) == (
        80,
        8,
        10,
        today.isoformat(),
    )


def test_dropping_and_rising_again_the_same_day_records_nothing_new_in_any_process(
    pool_of_ten, alert_log, django_capture_on_commit_callbacks
):
    server, organization, agents = pool_of_ten
    clients = logins(django_capture_on_commit_callbacks, [f"agent{i}" for i in range(9)])
    assert [t for _, t, *_ in recorded()] == [80, 90]
    for name in ("agent7", "agent8"):
        clients[name].post("/accounts/logout/")  # 70%

    # Rising again: this process knows 80 and 90 are recorded today, and asks nothing.
    with CaptureQueriesContext(connection) as queries:
        logins(django_capture_on_commit_callbacks, ["agent7", "agent8"])
    assert not [q for q in queries.captured_queries if "thresholdalert" in q["sql"]]
    # Another process (which knows nothing) finds them recorded: PostgreSQL's unique constraint.
    alerts._recorded.clear()
    clients["agent8"].post("/accounts/logout/")
    logins(django_capture_on_commit_callbacks, ["agent8"])
    assert [t for _, t, *_ in recorded()] == [80, 90]
    assert len(alert_log) == 2


def test_the_next_day_starts_afresh(pool_of_ten, alert_log, django_capture_on_commit_callbacks):
    server, organization, agents = pool_of_ten
    today = timezone.localdate()
    clients = logins(django_capture_on_commit_callbacks, [f"agent{i}" for i in range(8)])
    for client in clients.values():
        client.post("/accounts/logout/")

    with time_machine.travel(timezone.now() + timedelta(days=1)):
        logins(django_capture_on_commit_callbacks, [f"agent{i}" for i in range(8)])
    assert [(day, t) for day, t, *_ in recorded()] == [
        (today, 80),
        (today + timedelta(days=1), 80),
    ]


def test_the_next_day_each_threshold_is_recorded_again_one_by_one(
    pool_of_ten, django_capture_on_commit_callbacks
):
    """Yesterday's 90% does not hide today's: today's 80% and then today's 90% are both
    recorded, though this process remembers yesterday's."""
    server, organization, agents = pool_of_ten
    today = timezone.localdate()
    clients = logins(django_capture_on_commit_callbacks, [f"agent{i}" for i in range(9)])
    for client in clients.values():
        client.post("/accounts/logout/")

    with time_machine.travel(timezone.now() + timedelta(days=1)):
        logins(django_capture_on_commit_callbacks, [f"agent{i}" for i in range(8)])
        logins(django_capture_on_commit_callbacks, ["agent8"])
    tomorrow = today + timedelta(days=1)
    assert [(day, t) for day, t, *_ in recorded()] == [
        (today, 80),
        (today, 90),
        (tomorrow, 80),
        (tomorrow, 90),
    ]


def test_an_organization_with_a_cap_is_alerted_against_its_cap_and_one_without_is_not(
    licensed_server, alert_log, django_capture_on_commit_callbacks
):
    server, capped = setup_server(licensed_server, ["agent:concurrent=20"])
    uncapped = OrganizationFactory(server=server, name="Contoso")
    pool_share_set(
        organization=capped, license_type="agent", method="concurrent", cap=5, acting_user=None
    )
    alerts.caps_forget()  # (the service does it after its commit, which this test never sees)
    for i in range(5):
        member(capped, f"north{i}")
        member(uncapped, f"contoso{i}")
    logins(django_capture_on_commit_callbacks, [f"contoso{i}" for i in range(5)])
    assert recorded() == []  # 5 of 20 on the server; Contoso has no cap
    logins(django_capture_on_commit_callbacks, [f"north{i}" for i in range(5)])

    today = timezone.localdate()
    assert recorded(organization=capped) == [
        (today, 80, 4, 5),
        (today, 90, 5, 5),  # 4 of 5 is 80%, 5 of 5 reaches 90 and 100 at once
        (today, 100, 5, 5),
    ]
    assert recorded(organization=None) == []  # 10 of 20: 50%
    assert alert_log[0].getMessage() == (
        "Agent access (IWP_Agent) Concurrent on server CIC-SEATS, organization Northwind "
        "(cap 5) reached 80%: 4 of 5 seats in use"
    )
    assert alert_log[0].organization == "Northwind"


def test_assigning_seats_reaches_thresholds_too_several_at_once(
    licensed_server, django_capture_on_commit_callbacks
):
    server, organization = setup_server(licensed_server, ["agent:assignable=10"])
    users = [member(organization, f"desk{i}", method="assigned") for i in range(9)]
    with django_capture_on_commit_callbacks(execute=True):
        seat_assign_bulk(users=users)
    assert [(t, n, c) for _, t, n, c in recorded()] == [(80, 9, 10), (90, 9, 10)]


def test_a_login_below_every_threshold_runs_no_query_more_than_with_alerts_off(
    pool_of_ten, settings, django_capture_on_commit_callbacks
):
    logins(django_capture_on_commit_callbacks, ["agent0"])  # this process has read the caps

    def login_queries(name):
        with CaptureQueriesContext(connection) as queries:
            logins(django_capture_on_commit_callbacks, [name])
        return [q["sql"] for q in queries.captured_queries]

    settings.IWP_ALERT_THRESHOLDS = []
    without = login_queries("agent1")
    settings.IWP_ALERT_THRESHOLDS = [80, 90, 100]
    with_alerts = login_queries("agent2")  # 3 of 10
    assert len(with_alerts) == len(without), "\n".join(with_alerts)


def test_no_thresholds_configured_means_no_alerts(
    pool_of_ten, settings, django_capture_on_commit_callbacks
):
    settings.IWP_ALERT_THRESHOLDS = []
    logins(django_capture_on_commit_callbacks, [f"agent{i}" for i in range(10)])
    assert recorded() == []


def test_postgresql_refuses_a_second_record_of_a_threshold_on_a_day(pool_of_ten):
    server, organization, agents = pool_of_ten
    fields = dict(
        day=timezone.localdate(),
        server=server,
        organization=None,
        license_type="agent",
        method="concurrent",
        threshold=80,
        in_use=8,
        capacity=10,
        created_at=timezone.now(),
    )
    ThresholdAlert.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ThresholdAlert.objects.create(**fields)  # organization NULL counts as the same pool
    ThresholdAlert.objects.create(**{**fields, "organization": organization})
    ThresholdAlert.objects.create(**{**fields, "day": fields["day"] + timedelta(days=1)})


@pytest.mark.parametrize(
    ("text", "thresholds"),
    [("80,90,100", [80, 90, 100]), (" 95%, 50 ", [50, 95]), ("", []), ("100", [100])],
)
def test_alert_thresholds_setting_reads_whole_percents(text, thresholds):
    assert parse_alert_thresholds(text) == thresholds


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0,50", "'0' is not a whole percent from 1 to 100"),
        ("80,120", "'120' is not a whole percent from 1 to 100"),
        ("eighty", "'eighty' is not a whole percent"),
        ("80.5", "'80.5' is not a whole percent"),
        ("80,90,80", "names a threshold twice"),
    ],
)
def test_a_wrong_alert_thresholds_setting_is_refused_naming_it(text, says):
    with pytest.raises(ImproperlyConfigured) as refused:
        parse_alert_thresholds(text)
    assert "IWP_ALERT_THRESHOLDS" in str(refused.value) and says in str(refused.value)


@pytest.mark.django_db(transaction=True)
def test_racing_check_outs_at_a_threshold_record_and_mail_it_once(licensed_server):
    """Eight logins at once, each on its own connection and none knowing what the others
    recorded, all reach 80% and more: PostgreSQL keeps one alert per threshold, and one mail."""
    from compliance.models import ComplianceRecipient
    from notifications.models import OutboxMessage
    from seats.services.leases import lease_acquire

    from ..concurrency import race

    ComplianceRecipient.objects.create(email="ops@example.com")
    server, organization = setup_server(licensed_server, ["agent:concurrent=10"])
    agents = [member(organization, f"agent{i}") for i in range(10)]
    for agent in agents[:7]:
        lease_acquire(user=agent)
    alerts._recorded.clear()

    def check_out(i):
        alerts._recorded.clear()  # as if each were a process of its own
        if i < 3:
            return lease_acquire(user=agents[7 + i])
        return alerts.pool_alerts_raise(
            day=timezone.localdate(),
            server_id=server.pk,
            license_type="agent",
            method="concurrent",
            server_in_use=10,
            capacity=10,
            organization_in_use={},
        )

    results = race(8, check_out)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(ThresholdAlert.objects.values_list("threshold", flat=True)) == [80, 90, 100]
    covered = []  # each threshold in one mail: as its subject's, or as passed at the same moment
    for mail in OutboxMessage.objects.all():
        covered += [int(t) for t in re.findall(r"at (\d+)%$", mail.subject)]
        passed = re.search(r"It passed (.*) at the same moment", mail.body)
        covered += [int(t) for t in re.findall(r"(\d+)%", passed.group(1))] if passed else []
    assert sorted(covered) == [80, 90, 100]


def test_an_alert_whose_mail_fails_is_rolled_back_the_login_goes_on_and_the_next_records_it(
    pool_of_ten, django_capture_on_commit_callbacks, caplog, alert_log
):
    from seats.signals import threshold_alerts_recorded

    def mail_server_gone(sender, **kwargs):
        raise RuntimeError("the outbox is unreachable")

    threshold_alerts_recorded.connect(mail_server_gone, dispatch_uid="test.mail_server_gone")
    try:
        logins(django_capture_on_commit_callbacks, [f"agent{i}" for i in range(8)])
    finally:
        threshold_alerts_recorded.disconnect(dispatch_uid="test.mail_server_gone")
    assert recorded() == []  # the 8th login took its seat; the alert was not kept without mail
    assert "Utilisation alert not recorded" in caplog.text
    [failed] = alert_log
    assert (failed.levelno, failed.getMessage()) == (
        logging.ERROR,
        "Utilisation alert not recorded; the next check-out at this level tries again",
    )
    assert (failed.event, failed.day) == (
        "threshold_alert_failed",
        timezone.localdate().isoformat(),
    )
    assert failed.exc_info[1].args == ("the outbox is unreachable",)
    logins(django_capture_on_commit_callbacks, ["agent8"])
    assert [t for _, t, *_ in recorded()] == [80, 90]


@pytest.mark.parametrize(
    "in_use, capacity, reached",
    [
        (0, 0, []),  # a pool of no seats is never "full"
        (3, 0, []),
        (1, 1, [80, 90, 100]),  # the one seat of a pool of one
        (0, 1, []),
        (799, 1000, []),  # whole percents, no rounding up: 79.9% is not 80%
        (800, 1000, [80]),
        (899, 1000, [80]),
        (1000, 1000, [80, 90, 100]),
    ],
)
def test_a_threshold_is_reached_at_its_percent_exactly(in_use, capacity, reached):
    assert alerts.thresholds_reached(in_use=in_use, capacity=capacity) == reached


def test_an_organizations_cap_is_alerted_when_the_pools_alerts_were_recorded_earlier(
    licensed_server, django_capture_on_commit_callbacks
):
    """This process recorded the pool's 80% this morning; Northwind's cap reaching 80% later is
    still recorded (the pool's being known does not end the look at the caps)."""
    server, north = setup_server(licensed_server, ["agent:concurrent=10"])
    pool_share_set(
        organization=north, license_type="agent", method="concurrent", cap=5, acting_user=None
    )
    alerts.caps_forget()
    today = timezone.localdate()

    def raise_alerts(server_in_use, north_in_use):
        with django_capture_on_commit_callbacks(execute=True):
            alerts.pool_alerts_raise(
                day=today,
                server_id=server.pk,
                license_type="agent",
                method="concurrent",
                server_in_use=server_in_use,
                capacity=10,
                organization_in_use={north.pk: north_in_use},
            )

    raise_alerts(8, 1)
    raise_alerts(8, 4)
    assert recorded(organization=None) == [(today, 80, 8, 10)]
    assert recorded(organization=north) == [(today, 80, 4, 5)]
