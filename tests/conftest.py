import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.servers.basehttp import WSGIServer
from pytest_django.fixtures import validate_django_db

from licenses.licensefile import public_key_b64

from . import factories, migration_data

# The live server's listen backlog: socketserver's default of 5 resets connections when the API
# race test's 80 clients connect at once (gunicorn's default backlog is 2048).
WSGIServer.request_queue_size = 128


@pytest.fixture(scope="session")
def vendor_key():
    """The vendor's signing key for this test session; its public key is trusted (see below)."""
    return Ed25519PrivateKey.generate()


@pytest.fixture(autouse=True)
def _test_settings(settings, vendor_key):
    settings.IWP_LICENSE_PUBLIC_KEYS = [public_key_b64(vendor_key.public_key())]
    settings.IWP_TRUST_DEMO_KEY = False
    # Hashing a password the production way takes ~0.3 s; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production settings otherwise; static files are served unhashed without collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def licensed_server(db, vendor_key):
    """A server whose license has every entitlement, with room for a few of each."""

    def make(server_id="CIC-TEST-MAIN", entitlements=None, **kwargs):
        entitlements = entitlements or [
            "server",
            "organization=3",
            "supervisor:assignable=2",
            "supervisor:concurrent=2",
            "agent:assignable=3",
            "agent:concurrent=3",
            "marquee",
            "scheduled_reports",
        ]
        license_file = factories.install_license(
            vendor_key, server_id=server_id, entitlements=entitlements, **kwargs
        )
        return license_file.server

    return make


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, request):
    """Every session starts from the migrated database and nothing else (tests/migration_data.py),
    also with --reuse-db after an interrupted run."""
    with django_db_blocker.unblock():
        migration_data.start_clean(getattr(request.config, "cache", None))


def _is_transactional(item):
    marker = item.get_closest_marker("django_db")
    if marker and validate_django_db(marker)[0]:
        return True
    return bool({"transactional_db", "live_server"} & set(item.fixturenames))


@pytest.fixture(autouse=True)
def _migration_rows_in_transactional_tests(request):
    """A transactional test starts with the rows migrations create, like every other test;
    the flush that ended the previous one deleted them."""
    if _is_transactional(request.node):
        request.getfixturevalue("transactional_db")
        migration_data.restore()


@pytest.fixture
def alert_caches_fresh():
    """What a new process knows of utilisation alerts: none recorded today, no cap read."""
    from seats.services import alerts

    alerts._recorded.clear()
    alerts.caps_forget()
    yield
    alerts._recorded.clear()
    alerts.caps_forget()
