"""The administrator's side of "roles grant by default": the user's admin page shows the portal
features each membership gives, and a membership withholds features with checkboxes."""

import pytest

from organizations.models import Membership, PortalFeature
from tests.factories import UserFactory

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
