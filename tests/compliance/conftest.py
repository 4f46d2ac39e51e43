import pytest

from iwp_licensing.celery import app as celery_app
from licenses.models import Method
from seats.models import DailySeatUsage, SeatAssignment

from .. import factories
from ..logs import records_of
from ..notifications.conftest import smtp_down, smtp_server  # noqa: F401  (fixtures)


@pytest.fixture
def eager_celery():
    """Tasks queued after commit (outbox delivery) run in this process instead of
    going to the broker."""
    old = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = old


@pytest.fixture
def admins(settings):
    settings.ADMINS = [("Licensing Admin", "licensing-admin@example.com")]
    return ["licensing-admin@example.com"]


@pytest.fixture
def compliance_log():
    """Records emitted on iwp_licensing.compliance (it does not propagate to the root logger)."""
    with records_of("iwp_licensing.compliance") as records:
        yield records


def hold_assignable(server, organization, license_type, n, *, stations=0):
    """``n`` active Assignable seats on ``server`` (users), plus ``stations`` held by stations."""
    rows = []
    for _ in range(n):
        user = factories.UserFactory(license_method="assigned")
        rows.append(
            SeatAssignment(
                server=server, organization=organization, license_type=license_type, user=user
            )
        )
    for _ in range(stations):
        station = factories.StationFactory(organization=organization)
        rows.append(
            SeatAssignment(
                server=server, organization=organization, license_type=license_type, station=station
            )
        )
    SeatAssignment.objects.bulk_create(rows)


def concurrent_peak(server, day, license_type, peak):
    """The day's server-wide Concurrent high-water mark, as the seats code records it at login."""
    DailySeatUsage.objects.update_or_create(
        day=day,
        server=server,
        organization=None,
        license_type=license_type,
        method=Method.CONCURRENT,
        defaults={"peak": peak},
    )


def organizations(server, n):
    return [factories.OrganizationFactory(server=server) for _ in range(n)]
