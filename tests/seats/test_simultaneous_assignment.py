"""Two administrators assigning a seat to the same user at the same moment: the one who commits
second is told so, and nothing of theirs is kept."""

import threading

import pytest
from django.db import connection

from licenses.exceptions import LicenseLimitReached
from seats.models import SeatAssignment
from seats.services import assignments
from tests.factories import UserFactory

from .seat_helpers import member, pool_in_use, setup_server


@pytest.mark.django_db(transaction=True)
def test_the_administrator_who_assigns_second_is_told_another_did_and_nothing_is_assigned(
    licensed_server, monkeypatch
):
    server, organization = setup_server(licensed_server, ["agent:assignable=5"])
    first, second = (UserFactory(username=n, is_staff=True) for n in ("first-admin", "second"))
    alice = member(organization, "alice", method="assigned")
    bea = member(organization, "bea", method="assigned")
    take = assignments._take
    raced = []

    def other_administrator_commits_first(**kwargs):
        # After this assignment read alice's seats (none) and before it writes hers, the
        # other administrator's assignment of alice commits (its own take is the real one).
        if raced:
            return take(**kwargs)
        raced.append(True)

        def assign():
            try:
                assignments.seat_assign(user=alice, acting_user=first)
            finally:
                connection.close()

        racer = threading.Thread(target=assign)
        racer.start()
        racer.join(30)
        return take(**kwargs)

    monkeypatch.setattr(assignments, "_take", other_administrator_commits_first)
    with pytest.raises(LicenseLimitReached) as refused:
        assignments.seat_assign_bulk(users=[alice, bea], acting_user=second)
    monkeypatch.undo()

    assert refused.value.message == (
        "Another administrator assigned seats to some of these users at the same moment; "
        "nothing was assigned. Try again."
    )
    assert (refused.value.server_id, refused.value.license_type, refused.value.method) == (
        "",
        "",
        "assignable",
    )
    [seat] = SeatAssignment.objects.all()
    assert (seat.user, seat.assigned_by) == (alice, first)
    assert pool_in_use(server, "agent", "assignable") == 1
