"""A demo server with a license signed by the development-only demo key, organizations,
users and stations."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from licenses.keys import demo_key_trusted, demo_private_key
from licenses.licensefile import LicenseContent, parse_entitlement_spec, sign
from licenses.services import license_file_import, organization_create
from organizations.models import Membership, Organization, Server, Station, User
from portal.demo import DEMO_HISTORY_DAYS

DEMO_PASSWORD = "iwp-demo-password"
DEMO_SERVER = "CIC-DEMO-01"
DEMO_WALL_SERVER = "CIC-DEMO-WALL"

MAIN_LICENSE = [
    "server",
    "organization=5",
    "supervisor:assignable=2",
    "supervisor:concurrent=2",
    "agent:assignable=4",
    "agent:concurrent=3+20%",
    "marquee",
    "scheduled_reports",
]
WALL_LICENSE = ["server", "marquee"]

ORGANIZATIONS = {
    "Northwind Outsourcing": {
        "stations": ["NW-Desk-01", "NW-Desk-02"],
        "users": [
            ("nina.supervisor", Membership.Role.SUPERVISOR, User.LicenseMethod.ASSIGNED),
            ("omar.orgadmin", Membership.Role.ORG_ADMIN, User.LicenseMethod.CONCURRENT),
            ("alice.agent", Membership.Role.AGENT, User.LicenseMethod.ASSIGNED),
            ("bob.agent", Membership.Role.AGENT, User.LicenseMethod.CONCURRENT),
            ("carol.agent", Membership.Role.AGENT, User.LicenseMethod.CONCURRENT),
        ],
    },
    "Contoso Insurance": {
        "stations": ["CI-Floor-A"],
        "users": [
            ("sam.supervisor", Membership.Role.SUPERVISOR, User.LicenseMethod.CONCURRENT),
            ("dave.agent", Membership.Role.AGENT, User.LicenseMethod.ASSIGNED),
            ("erin.agent", Membership.Role.AGENT, User.LicenseMethod.CONCURRENT),
        ],
    },
    "Fabrikam Retail": {
        "stations": [],
        "users": [("frank.agent", Membership.Role.AGENT, User.LicenseMethod.CONCURRENT)],
    },
}


def demo_license_text(server_id: str, entitlements: list[str], serial: str) -> str:
    today = timezone.localdate()
    content = LicenseContent(
        serial=serial,
        customer="Demo Contact Center (DEVELOPMENT ONLY)",
        server_id=server_id,
        issued_on=today,
        starts_on=today - timedelta(days=DEMO_HISTORY_DAYS),  # the demo's history is within it
        expires_on=today + timedelta(days=20),  # inside the 30-day warning window, to show it
        entitlements=tuple(parse_entitlement_spec(e) for e in entitlements),
    )
    return sign(content, demo_private_key())


class Command(BaseCommand):
    help = (
        "Create demo data: a licensed server (demo key, development only), a Marquee-only server, "
        "organizations, users, stations."
    )

    def handle(self, *args, **options):
        if not demo_key_trusted():
            raise CommandError(
                "The demo license is signed by the development-only demo key, "
                "which is trusted only with DEBUG on. Run with DEBUG=1 on a development machine."
            )
        if Server.objects.filter(server_id=DEMO_SERVER).exists():
            self.stdout.write("Demo data is already there; nothing to do.")
            self._print_accounts()
            return
        today = timezone.localdate()
        stamp = today.strftime("%Y%m%d")
        with transaction.atomic():
            main = license_file_import(
                text=demo_license_text(DEMO_SERVER, MAIN_LICENSE, f"DEMO-{stamp}-MAIN")
            ).server
            wall = license_file_import(
                text=demo_license_text(DEMO_WALL_SERVER, WALL_LICENSE, f"DEMO-{stamp}-WALL")
            ).server
            Server.objects.filter(server_id=DEMO_SERVER).update(name="Demo contact center")
            Server.objects.filter(server_id=DEMO_WALL_SERVER).update(
                name="Demo wallboard-only site"
            )
            admin = User.objects.create_superuser("admin", "admin@example.com", DEMO_PASSWORD)
            for org_name, spec in ORGANIZATIONS.items():
                org = organization_create(server=main, name=org_name, acting_user=admin)
                for station in spec["stations"]:
                    Station.objects.create(organization=org, name=station)
                for username, role, method in spec["users"]:
                    user = User.objects.create_user(
                        username,
                        f"{username}@example.com",
                        DEMO_PASSWORD,
                        license_method=method,
                        first_name=username.split(".")[0].title(),
                    )
                    Membership.objects.create(user=user, organization=org, role=role)
            # Marquee only: its wallboard organization needs no Organization license, and the
            # people who watch it need no access seat.
            lobby = organization_create(
                server=wall, name="Lobby wallboard", is_wallboard=True, acting_user=admin
            )
            viewer = User.objects.create_user(
                "wall.viewer",
                "wall.viewer@example.com",
                DEMO_PASSWORD,
                license_method=User.LicenseMethod.CONCURRENT,
                first_name="Wall",
            )
            Membership.objects.create(user=viewer, organization=lobby, role=Membership.Role.AGENT)
            self.extend_demo(main=main, admin=admin)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data created: servers {DEMO_SERVER} and {DEMO_WALL_SERVER} (Marquee-only), "
                f"{Organization.objects.count()} organizations, {User.objects.count()} users, "
                f"{Station.objects.count()} stations."
            )
        )
        self._print_accounts()

    def extend_demo(self, *, main, admin):
        """Seats and history for the demo, added by the seats and portal features."""
        self.extend_demo_seats(main=main, admin=admin)
        self.extend_demo_portal(main=main, admin=admin)

    def extend_demo_seats(self, *, main, admin):
        """Seats: Assignable seats for the Assigned users alice and nina, and station seats (dave
        logs in at CI-Floor-A)."""
        from seats.services.assignments import seat_assign

        for username in ("alice.agent", "nina.supervisor"):
            seat_assign(user=User.objects.get(username=username), acting_user=admin)
        for station in Station.objects.filter(
            organization__server=main, name__in=["NW-Desk-01", "CI-Floor-A"]
        ):
            seat_assign(station=station, license_type="agent", acting_user=admin)

    def extend_demo_portal(self, *, main, admin):
        """Portal: a year of daily usage for the history chart and a report (supervisors get the
        portal from their role)."""
        from portal.demo import demo_portal_data

        demo_portal_data(server=main, acting_user=admin)

    def _print_accounts(self):
        self.stdout.write(
            "\nOpen http://127.0.0.1:8000/admin/ (administrator) "
            "or http://127.0.0.1:8000/accounts/login/ (portal).\n"
            f"Every demo account's password is: {DEMO_PASSWORD}\n"
            "  admin            administrator (Django admin)\n"
            "  nina.supervisor  supervisor of Northwind Outsourcing (Assigned)\n"
            "  omar.orgadmin    organization admin of Northwind Outsourcing (Concurrent)\n"
            "  sam.supervisor   supervisor of Contoso Insurance (Concurrent)\n"
            "  alice.agent      agent of Northwind Outsourcing (Assigned)\n"
            "  bob.agent        agent of Northwind Outsourcing (Concurrent)\n"
            "  dave.agent       agent of Contoso Insurance (Assigned): "
            "log in at station CI-Floor-A, which holds his seat\n"
            "  wall.viewer      watches the wallboard of CIC-DEMO-WALL (Marquee only)\n"
            "The demo license is signed with a public, development-only key; "
            "it expires in 20 days to show the warning."
        )
