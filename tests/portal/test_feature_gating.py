"""Feature gating (issue 3): one table, one mixin; a refusal names the missing license."""

import html
import re

import pytest

from organizations.models import Membership, PortalFeature, User
from portal.features import FEATURES, Feature
from tests.factories import OrganizationFactory, UserFactory

from .conftest import lease_seat

pytestmark = pytest.mark.django_db

SUPERVISOR_PAGES = [
    "organization",
    "holders",
    "history",
    "compliance",
    "reports",
    "seats_csv",
    "history_csv",
]


def page(client, name, org):
    return client.get(
        f"/portal/org/{org.pk}/"
        + {
            "organization": "",
            "holders": "holders/",
            "history": "history/",
            "compliance": "compliance/",
            "reports": "reports/",
            "seats_csv": "seats.csv",
            "history_csv": "history.csv",
            "wallboard": "wallboard/",
        }[name]
    )


def refusal_of(response) -> tuple[str, str]:
    """The refused page's missing license (its data-license) and its sentence."""
    found = re.search(
        r'<p class="bad refusal" data-license="([^"]*)">([^<]*)</p>', response.content.decode()
    )
    return found.group(1), html.unescape(found.group(2))


def test_every_portal_feature_is_declared_with_a_license():
    assert set(FEATURES) == set(Feature)
    for feature, rule in FEATURES.items():
        assert rule.licenses, feature
        # every supervisor feature can be withheld on a membership; the agent's page cannot
        assert (feature in PortalFeature.values) == (feature != Feature.AGENT_PAGE), feature


def test_supervisor_with_seat_sees_every_supervisor_page_from_the_role_alone(
    client, org, supervisor
):
    client.force_login(supervisor)
    for name in SUPERVISOR_PAGES + ["wallboard"]:
        assert page(client, name, org).status_code == 200, name
    nav = client.get("/portal/").content.decode()
    for label in ("Who holds what", "History", "Compliance", "Scheduled reports", "Wallboard"):
        assert label in nav


def test_server_without_supervisor_license_refuses_supervisor_pages_naming_it(
    client, licensed_server, make_member
):
    org = OrganizationFactory(
        server=licensed_server(
            server_id="CIC-NOSUP",
            entitlements=["server", "organization=2", "agent:assignable=5", "marquee"],
        )
    )
    user = make_member(org, seat=False)
    client.force_login(user)
    for name in SUPERVISOR_PAGES:
        response = page(client, name, org)
        assert response.status_code == 403, name
        text = response.content.decode()
        assert "needs the Supervisor access (IWP_Supervisor) license" in text
        assert "CIC-NOSUP" in text


def test_concurrent_supervisor_needs_the_seat_taken_at_login(client, org, make_member):
    user = make_member(org, method=User.LicenseMethod.CONCURRENT, seat=False)
    client.force_login(user)
    response = page(client, "holders", org)
    assert response.status_code == 403
    assert "you hold no Supervisor access (IWP_Supervisor) seat" in response.content.decode()
    lease_seat(user=user, organization=org, license_type="supervisor")
    assert page(client, "holders", org).status_code == 200


def test_assigned_supervisor_needs_an_assigned_seat(client, licensed_server, make_member):
    org = OrganizationFactory(
        server=licensed_server(
            server_id="CIC-NOMQ",
            entitlements=["server", "organization=2", "supervisor:assignable=5"],
        )
    )
    client.force_login(make_member(org, seat=False))
    response = client.get("/portal/")
    assert response.status_code == 403
    assert "an administrator assigns one to you or to your station" in response.content.decode()


def test_supervisor_without_seat_still_reaches_the_wallboard_and_is_told_why_the_rest_is_missing(
    client, org, make_member
):
    client.force_login(make_member(org, seat=False))
    body = client.get("/portal/").content.decode()
    assert "you hold no Supervisor access (IWP_Supervisor) seat" in body
    assert f"/portal/org/{org.pk}/wallboard/" in body


def test_administrator_withholds_some_features_and_the_supervisor_keeps_the_others(
    client, org, make_member
):
    user = make_member(
        org,
        withheld=[PortalFeature.SEAT_HOLDERS, PortalFeature.SCHEDULED_REPORTS],
    )
    client.force_login(user)
    body = client.get("/portal/").content.decode()
    assert "History" in body and "Who holds what" not in body and "Scheduled reports" not in body
    assert page(client, "history", org).status_code == 200
    refused = page(client, "holders", org)
    assert refused.status_code == 403
    assert "Who holds what has been withheld from you in Acme Support" in refused.content.decode()


def test_withholding_is_per_organization(client, licensed_server, make_member):
    server = licensed_server(server_id="CIC-TWO")
    first = OrganizationFactory(server=server, name="First")
    second = OrganizationFactory(server=server, name="Second")
    user = make_member(first, withheld=[PortalFeature.USAGE_HISTORY])
    Membership.objects.create(user=user, organization=second, role=Membership.Role.SUPERVISOR)
    client.force_login(user)
    assert page(client, "history", first).status_code == 403
    assert page(client, "history", second).status_code == 200


def test_a_membership_cannot_withhold_an_unknown_feature(org, make_member):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    user = make_member(org)
    membership = user.memberships.get()
    membership.withheld_features = ["self_destruct"]
    with pytest.raises(ValidationError):
        membership.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        membership.save()


def test_without_scheduled_reports_license_the_feature_is_absent_and_its_url_says_why(
    client, licensed_server, make_member
):
    org = OrganizationFactory(
        server=licensed_server(
            server_id="CIC-NOREP",
            entitlements=["server", "organization=2", "supervisor:assignable=5", "marquee"],
        )
    )
    client.force_login(make_member(org))
    assert "Scheduled reports" not in client.get("/portal/").content.decode()
    response = page(client, "reports", org)
    assert response.status_code == 403
    assert "needs the Scheduled Reports license" in response.content.decode()


def test_without_marquee_the_wallboard_says_marquee_is_missing(
    client, licensed_server, make_member
):
    org = OrganizationFactory(
        server=licensed_server(
            server_id="CIC-NOMQ",
            entitlements=["server", "organization=2", "supervisor:assignable=5"],
        )
    )
    client.force_login(make_member(org))
    response = page(client, "wallboard", org)
    assert response.status_code == 403
    assert "needs the Marquee license" in response.content.decode()


def test_a_wallboard_organization_whose_marquee_license_lapsed_is_told_so(client, licensed_server):
    """Its members watch the wallboard, which needs Marquee: without it the page names it."""
    org = OrganizationFactory(
        server=licensed_server(server_id="CIC-WBX", entitlements=["server", "organization=2"]),
        is_wallboard=True,
    )
    screen = UserFactory(username="screen")
    Membership.objects.create(user=screen, organization=org, role="agent")
    client.force_login(screen)
    response = page(client, "wallboard", org)
    assert response.status_code == 403
    assert refusal_of(response) == (
        "marquee",
        "The wallboard needs the Marquee license: server CIC-WBX has no valid one.",
    )


def test_marquee_only_server_offers_only_the_wallboard(client, licensed_server, make_member):
    org = OrganizationFactory(
        server=licensed_server(server_id="CIC-MQ", entitlements=["server", "marquee"])
    )
    client.force_login(make_member(org, seat=False))
    response = client.get("/portal/")
    assert (
        response.status_code == 302 and response["Location"] == f"/portal/org/{org.pk}/wallboard/"
    )
    assert page(client, "wallboard", org).status_code == 200
    refused = page(client, "holders", org)
    assert refused.status_code == 403
    assert refusal_of(refused) == (
        "organization",
        "Who holds what needs the Organization license: server CIC-MQ has only a Marquee license, "
        "so only the wallboard is available.",
    )


def test_agents_do_not_reach_supervisor_pages(client, org, make_member):
    agent = make_member(org, role="agent")
    client.force_login(agent)
    assert (
        page(client, "holders", org).status_code == 404
    )  # not a supervisor of it: as if it did not exist


def test_agent_page_needs_the_agent_license(client, licensed_server, make_member):
    org = OrganizationFactory(
        server=licensed_server(
            server_id="CIC-NOAG",
            entitlements=["server", "organization=2", "supervisor:assignable=5"],
        )
    )
    client.force_login(make_member(org, role="agent", seat=False))
    response = client.get("/portal/me/")
    assert response.status_code == 403
    assert "needs the Agent access (IWP_Agent) license" in response.content.decode()


def test_supervisor_seat_also_opens_the_agent_page_of_another_organization(
    client, org, make_member
):
    from organizations.models import Membership

    user = make_member(org)  # supervisor of org, with a Supervisor seat
    other = OrganizationFactory(server=org.server, name="Where I am an agent")
    Membership.objects.create(user=user, organization=other, role="agent")
    client.force_login(user)
    html = client.get("/portal/").content.decode()
    assert "My license" in html and "Where I am an agent" in html


def test_organization_page_of_an_unlicensed_server_answers_503_naming_the_server(
    client, licensed_server, make_member
):
    org = OrganizationFactory(
        server=licensed_server(
            server_id="CIC-NOSRV", entitlements=["organization=2", "supervisor:assignable=5"]
        )
    )
    client.force_login(make_member(org))
    response = client.get(f"/portal/org/{org.pk}/holders/")
    assert response.status_code == 503
    assert refusal_of(response) == (
        "server",
        "Server CIC-NOSRV has no valid Server license, so the portal does not run for its "
        "organizations.",
    )


def test_agent_on_a_marquee_only_server_is_told_the_wallboard_is_for_supervisors(
    client, licensed_server, make_member
):
    org = OrganizationFactory(
        server=licensed_server(server_id="CIC-MQ2", entitlements=["server", "marquee"])
    )
    client.force_login(make_member(org, role="agent", seat=False))
    response = client.get("/portal/")
    assert response.status_code == 403
    assert "Wallboard is for supervisors of this organization" in response.content.decode()


def test_a_new_concurrent_supervisor_logs_in_and_sees_seat_usage_with_no_further_step(
    client, licensed_server
):
    """The reported journey: a Supervisor membership, a login that takes a Concurrent seat, and
    the portal, with no group or permission given by an administrator."""
    org = OrganizationFactory(
        server=licensed_server(
            server_id="CIC-NEW",
            entitlements=["server", "organization=2", "supervisor:concurrent=2"],
        ),
        name="Fresh Start",
    )
    user = UserFactory(username="new.supervisor", license_method=User.LicenseMethod.CONCURRENT)
    user.set_password("correct horse battery")
    user.save()
    Membership.objects.create(user=user, organization=org, role=Membership.Role.SUPERVISOR)
    assert not user.groups.exists() and not user.user_permissions.exists()

    response = client.post(
        "/accounts/login/",
        {"username": "new.supervisor", "password": "correct horse battery"},
        follow=True,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "has not been given to you" not in body and "withheld" not in body
    usage = page(client, "organization", org)
    assert usage.status_code == 200
    assert "Fresh Start" in usage.content.decode()
