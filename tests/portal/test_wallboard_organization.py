"""A Marquee-only server is usable: its wallboard organization needs no Organization license,
its members need no access seat, and they see the wallboard and nothing else, told why."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from licenses.exceptions import LicenseLimitReached, LicenseMissing
from licenses.services import organization_create
from organizations.models import Membership
from seats.models import SeatLease
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def test_a_marquee_only_server_takes_one_wallboard_organization_and_no_other(licensed_server):
    wall = licensed_server(server_id="CIC-WALL", entitlements=["server", "marquee"])
    with pytest.raises(LicenseLimitReached) as refused:
        organization_create(server=wall, name="Tenant")
    assert "make this the server's wallboard organization" in str(refused.value)

    lobby = organization_create(server=wall, name="Lobby", is_wallboard=True)
    assert lobby.is_wallboard
    with pytest.raises(ValidationError, match="has a wallboard organization already"):
        organization_create(server=wall, name="Second lobby", is_wallboard=True)


def test_a_wallboard_organization_needs_the_marquee_license(licensed_server):
    server = licensed_server(server_id="CIC-NOMQ", entitlements=["server", "organization=1"])
    with pytest.raises(LicenseMissing, match="needs the Marquee license"):
        organization_create(server=server, name="Lobby", is_wallboard=True)


def test_its_members_log_in_without_a_seat_and_see_the_wallboard_only(licensed_server):
    wall = licensed_server(server_id="CIC-WALL", entitlements=["server", "marquee"])
    lobby = organization_create(server=wall, name="Lobby", is_wallboard=True)
    viewer = UserFactory(username="viewer", license_method="concurrent")
    MembershipFactory(user=viewer, organization=lobby, role=Membership.Role.AGENT)

    client = Client()
    response = client.post("/accounts/login/", {"username": "viewer", "password": PASSWORD})
    assert response.status_code == 302
    assert not SeatLease.objects.exists()  # the wallboard takes no access seat
    landing = client.get("/portal/")
    assert landing.status_code == 302
    assert landing["Location"] == f"/portal/org/{lobby.pk}/wallboard/"
    assert client.get(landing["Location"]).status_code == 200

    refused = client.get(f"/portal/org/{lobby.pk}/")
    assert refused.status_code == 403
    assert "wallboard organization, whose members see the wallboard only" in (
        refused.content.decode()
    )
