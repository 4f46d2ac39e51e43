"""A server without a valid Server license: the portal answers 503, the admin keeps working."""

import pytest

from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_portal_of_an_unlicensed_server_answers_503(client, licensed_server):
    server = licensed_server(
        entitlements=["organization=2", "agent:assignable=2"]
    )  # no "server" line
    member = MembershipFactory(
        organization=OrganizationFactory(server=server), role="supervisor"
    ).user
    client.force_login(member)
    response = client.get("/portal/")
    assert response.status_code == 503
    assert f"Server {server.server_id} has no valid Server license" in response.content.decode()


def test_portal_of_a_server_without_any_license_answers_503(client):
    member = MembershipFactory(role="agent").user
    client.force_login(member)
    response = client.get("/portal/")
    assert response.status_code == 503
    assert "is not licensed" in response.content.decode()


def test_admin_keeps_working_on_an_unlicensed_server(client, licensed_server):
    server = licensed_server(entitlements=["organization=2"])
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200
    assert client.get(f"/admin/organizations/server/{server.pk}/change/").status_code == 200
