"""Logins and logouts run as prepared statements, and IWP_PREPARED_STATEMENTS=0 turns that off.

An operator behind a transaction-mode connection pooler that cannot keep prepared statements needs
the setting to leave none on the connection, and logins and logouts to work the same without them.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from seats.models import ReleaseReason, SeatLease

from .seat_helpers import login, member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


def prepared_statements():
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def log_in_and_out_twice(organization, server):
    member(organization, "bob")
    for _ in range(2):
        client = Client()
        assert login(client, "bob").status_code == 302
        assert pool_in_use(server, "agent", "concurrent") == 1
        assert client.post("/accounts/logout/").status_code == 302
        assert pool_in_use(server, "agent", "concurrent") == 0
    assert (
        SeatLease.objects.filter(user__username="bob", release_reason=ReleaseReason.LOGOUT).count()
        == 2
    )


@pytest.mark.parametrize("prepared", [True, False])
def test_login_and_logout_work_with_and_without_prepared_statements(
    licensed_server, settings, prepared
):
    settings.IWP_PREPARED_STATEMENTS = prepared
    server, organization = setup_server(licensed_server, ["agent:concurrent=1"])
    log_in_and_out_twice(organization, server)
    statements = prepared_statements()
    takes = [s for s in statements if "UPDATE seats_seatpool p SET in_use = p.in_use + 1" in s]
    releases = [s for s in statements if "UPDATE seats_seatlease SET released_at" in s]
    if prepared:
        assert len(takes) == 1 and len(releases) == 1, statements  # prepared once, executed twice
    else:
        assert statements == []


def test_prepared_statements_show_in_captured_queries_with_their_values(licensed_server):
    """assertNumQueries, CaptureQueriesContext and the debug toolbar list them as they
    list Django's own."""
    server, organization = setup_server(licensed_server, ["agent:concurrent=1"])
    member(organization, "bob")
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        assert login(client, "bob").status_code == 302
    takes = [
        q["sql"]
        for q in queries.captured_queries
        if "SET in_use = p.in_use + 1" in (q["sql"] or "")
    ]
    assert takes and f"WHERE p.server_id = {server.pk} AND p.license_type = 'agent'" in takes[-1]
