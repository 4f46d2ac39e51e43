"""What a Concurrent login costs the database: the usual login is one take statement beside
reading the user's memberships; a refusal adds only what explains and records it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from licenses.exceptions import LicenseLimitReached
from seats.services.leases import lease_acquire
from seats.services.shares import pool_share_set
from tests.factories import OrganizationFactory, ServerFactory

from .seat_helpers import member, setup_server

pytestmark = pytest.mark.django_db


def statements(fn):
    with CaptureQueriesContext(connection) as queries:
        try:
            fn()
        except LicenseLimitReached:
            pass
    return [q["sql"] for q in queries.captured_queries]


def test_the_usual_login_is_one_take_statement_and_does_not_lock_the_users_row(licensed_server):
    server, north = setup_server(licensed_server, ["agent:concurrent=1"])
    bob = member(north, "bob")
    run = statements(lambda: lease_acquire(user=bob, session_key="bob"))
    assert len([s for s in run if "UPDATE seats_seatpool p SET in_use = p.in_use + 1" in s]) == 1
    assert not [s for s in run if "FOR NO KEY UPDATE" in s]  # the several-servers path's lock


def test_a_refusal_costs_only_the_statements_that_explain_and_record_it(licensed_server):
    """Refusals come in bursts when seats run out: a full pool's costs the memberships read, the
    take statement and the denial row; a shared pool's adds the one read of the share rule it
    broke (and the organization's name); a server with no license adds the server's name."""
    server, north = setup_server(licensed_server, ["agent:concurrent=1"])
    lease_acquire(user=member(north, "a1"))
    a2 = member(north, "a2")
    full = statements(lambda: lease_acquire(user=a2))
    assert len(full) == 3, full
    assert 'INSERT INTO "seats_seatdenial"' in full[-1]

    south = OrganizationFactory(server=server, name="Southwind")
    pool_share_set(
        organization=south, license_type="agent", method="concurrent", cap=0, acting_user=None
    )
    s1 = member(south, "s1")
    capped = statements(lambda: lease_acquire(user=s1))
    assert len(capped) == 5, capped

    bare = OrganizationFactory(server=ServerFactory(server_id="CIC-BARE"), name="Bare")
    b1 = member(bare, "b1")
    unlicensed = statements(lambda: lease_acquire(user=b1))
    assert len(unlicensed) == 4, unlicensed


def test_a_newer_login_in_a_shared_pool_passes_the_seat_on_without_reading_the_shares(
    licensed_server,
):
    """The user's seat passes to the newer login, so no cap or reserve can refuse it: the shares
    are not read (the statements of a newer login in a pool with shares and one without are
    the same)."""
    counts = []
    for server_id, shared in (("CIC-PLAIN", False), ("CIC-SHARED", True)):
        server, north = setup_server(licensed_server, ["agent:concurrent=2"], server_id=server_id)
        if shared:
            pool_share_set(
                organization=north,
                license_type="agent",
                method="concurrent",
                cap=1,
                acting_user=None,
            )
        bob = member(north, f"bob-{server_id}")
        lease_acquire(user=bob, session_key=f"first-{server_id}")
        counts.append(
            len(statements(lambda bob=bob: lease_acquire(user=bob, session_key="second")))
        )
    assert counts[0] == counts[1], counts
