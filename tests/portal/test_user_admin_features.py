"""The administrator's side of "roles grant by default": the user's admin page shows the portal
features each membership gives, and a membership withholds features with checkboxes."""

import pytest

from organizations.models import Membership, PortalFeature, User
from portal.features import features_of_user
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_user_page_lists_the_features_each_membership_gives(admin_client, org, make_member):
    user = make_member(org, withheld=[PortalFeature.EXPORTS])
    body = admin_client.get(f"/admin/organizations/user/{user.pk}/change/").content.decode()
    section = body[body.index('class="portal-features"') :]
    section = section[: section.index("</table>")]
    assert "Acme Support" in section and "Supervisor" in section
    yes, no = section.count("icon-yes.svg"), section.count("icon-no.svg")
    assert "CSV exports has been withheld from you in Acme Support" in section
    # Seat usage, holders, history, renewal, compliance, reports, wallboard: yes; exports withheld.
    assert (yes, no) == (7, 1)


def test_user_page_says_why_an_agent_without_a_seat_has_no_page(admin_client, org, make_member):
    agent = make_member(org, role=Membership.Role.AGENT, seat=False)
    body = admin_client.get(f"/admin/organizations/user/{agent.pk}/change/").content.decode()
    assert "My license needs the Agent access (IWP_Agent) license: you hold no" in body
    section = body[body.index('class="portal-features"') :]
    assert "Seat usage" not in section[: section.index("</table>")]


def test_administrator_withholds_a_feature_on_the_membership_page(
    admin_client, client, org, make_member
):
    user = make_member(org)
    membership = user.memberships.get()
    url = f"/admin/organizations/membership/{membership.pk}/change/"
    form = admin_client.get(url).content.decode()
    assert 'type="checkbox" name="withheld_features" value="usage_history"' in form
    response = admin_client.post(
        url,
        {
            "user": user.pk,
            "organization": org.pk,
            "role": "supervisor",
            "withheld_features": ["usage_history", "compliance"],
        },
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.withheld_features == ["usage_history", "compliance"]
    listing = admin_client.get("/admin/organizations/membership/").content.decode()
    assert "History, Compliance" in listing


def test_a_concurrent_supervisor_between_sessions_is_shown_what_a_sign_in_gives(
    admin_client, org, make_member
):
    """A Concurrent user holds no seat between sessions: the page shows what they get once signed
    in with the seat their role takes, not a refusal for the seat they cannot hold yet."""
    user = make_member(org, method=User.LicenseMethod.CONCURRENT, seat=False)
    body = admin_client.get(f"/admin/organizations/user/{user.pk}/change/").content.decode()
    section = body[body.index('class="portal-features"') :]
    section = section[: section.index("</table>")]
    assert "you hold no" not in section
    assert (section.count("icon-yes.svg"), section.count("icon-no.svg")) == (8, 0)


def test_the_features_of_a_member_of_many_organizations_cost_the_same_queries(
    org, make_member, django_assert_num_queries
):
    """One query for the memberships (with their organizations and servers), two per server."""
    user = make_member(org)
    for i in range(4):
        Membership.objects.create(
            user=user,
            organization=OrganizationFactory(server=org.server, name=f"Team {i}"),
            role=Membership.Role.SUPERVISOR,
        )
    with django_assert_num_queries(3):
        memberships = features_of_user(user=user)
    assert [m.membership.organization.name for m in memberships] == [
        "Acme Support",
        *(f"Team {i}" for i in range(4)),
    ]
