"""What the browser tests share: the demo's world (a licensed server, two tenants, seats held,
a year of history, a scheduled report and a compliance event) and the ways in."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from organizations.models import Membership, User
from portal.demo import demo_usage_history
from portal.services import report_run_create, scheduled_report_create
from seats.services.assignments import seat_assign
from seats.services.leases import lease_acquire
from tests.factories import OrganizationFactory, StationFactory, UserFactory

PASSWORD = "correct horse battery"  # tests/factories.py
DEMO_LICENSE = [
    "server",
    "organization=5",
    "supervisor:assignable=2",
    "supervisor:concurrent=2",
    "agent:assignable=4",
    "agent:concurrent=3+20%",
    "marquee",
    "scheduled_reports",
]


def member(org, username, role, method, first_name=""):
    user = UserFactory(
        username=username,
        license_method=method,
        first_name=first_name or username.split(".")[0].title(),
        last_name="Example",
    )
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def demo_world(licensed_server):
    """What the demo shows: a license expiring in 20 days, two tenants, seats held,
    a year of history."""
    server = licensed_server(
        server_id="CIC-DEMO-01",
        entitlements=DEMO_LICENSE,
        expires_on=timezone.localdate() + timedelta(days=20),
    )
    north = OrganizationFactory(server=server, name="Northwind Outsourcing")
    contoso = OrganizationFactory(server=server, name="Contoso Insurance")
    nina = member(north, "nina.supervisor", "supervisor", User.LicenseMethod.CONCURRENT)
    for name in ("alice.agent", "dan.agent", "fay.agent"):
        seat_assign(user=member(north, name, "agent", User.LicenseMethod.ASSIGNED))
    seat_assign(station=StationFactory(organization=north, name="NW-Desk-01"), license_type="agent")
    bob = member(north, "bob.agent", "agent", User.LicenseMethod.CONCURRENT)
    lease_acquire(user=bob)
    member(north, "carol.agent", "agent", User.LicenseMethod.CONCURRENT)
    for name in ("erin.agent", "gus.agent"):
        lease_acquire(user=member(contoso, name, "agent", User.LicenseMethod.CONCURRENT))
    member(contoso, "sam.supervisor", "supervisor", User.LicenseMethod.ASSIGNED)
    demo_usage_history(server=server)
    report = scheduled_report_create(
        organization=north,
        name="Weekly seat usage",
        frequency="weekly",
        recipients="leads@example.com",
        acting_user=nina,
    )
    report_run_create(report=report)
    try:
        from compliance.models import ComplianceEvent

        ComplianceEvent.objects.create(
            server=server,
            day=timezone.localdate() - timedelta(days=3),
            license_type="agent",
            method="concurrent",
            licensed_count=3,
            found_count=4,
            message=(
                "Total agent users have exceeded the total agent user license count, "
                "licenses: [3] agent user: [4]"
            ),
        )
    except ImportError:
        pass
    return {"server": server, "north": north, "contoso": contoso, "nina": nina, "bob": bob}


def log_in(page, username, password=PASSWORD):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def log_in_as(page, user, base_url):
    """Sign ``user`` in without the login form (for people the form would seat or refuse)."""
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base_url}])
