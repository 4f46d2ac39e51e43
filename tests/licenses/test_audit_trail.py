"""The audit trail: PostgreSQL records every change of a licensed table, with the user a service
acted for (and only inside that service call)."""

import pytest

from licenses.services import organization_create
from tests.factories import UserFactory
from tests.history import history

pytestmark = pytest.mark.django_db


def test_actor_does_not_outlive_the_service_call(licensed_server):
    server = licensed_server(entitlements=["server", "organization=3"])
    admin = UserFactory(username="ann-admin")
    by_admin = organization_create(server=server, name="By Ann", acting_user=admin)
    by_task = organization_create(
        server=server, name="By a task"
    )  # e.g. a Celery task afterwards, same thread
    assert [e.actor for e in history(by_admin)] == ["ann-admin"]
    assert [e.actor for e in history(by_task)] == [None]


def test_a_request_user_is_not_the_actor_of_later_work_in_the_same_thread(client, licensed_server):
    server = licensed_server(entitlements=["server", "organization=3"])
    client.force_login(UserFactory(username="bob-admin", is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200
    later = organization_create(server=server, name="Nightly job")
    assert [e.actor for e in history(later)] == [None]


def test_a_change_made_outside_the_orm_is_in_the_trail_and_a_save_that_changes_nothing_is_not(
    licensed_server,
):
    from django.db import connection

    server = licensed_server(entitlements=["server", "organization=3"])
    org = organization_create(server=server, name="Fabrikam")
    org.save()  # nothing changed
    with connection.cursor() as cursor:  # as psql or a bulk script would
        cursor.execute(
            "UPDATE organizations_organization SET name = 'Fabrikam Ltd' WHERE id = %s", [org.pk]
        )
    assert [(e.label, e.changes.get("name")) for e in history(org)] == [
        ("insert", None),
        ("update", ["Fabrikam", "Fabrikam Ltd"]),
    ]
