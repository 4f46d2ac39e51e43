"""The public demo key signs licenses on a development machine only: with DEBUG off it is refused
on every path (the import service, the admin, import_license even with --skip-checks, starting
the WSGI application), and a license it signed that is still in force is reported (a system
check, with and without --deploy, and a red banner on the admin home)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import OperationalError, connection

from licenses import checks
from licenses.keys import demo_key_id, demo_private_key
from licenses.licensefile import LicenseFileError, public_key_b64
from licenses.models import Entitlement, LicenseFile
from licenses.services import license_file_import
from organizations.models import Server
from tests.factories import UserFactory, license_text

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
LINES = ["server", "organization=2"]


def _demo_signed(server_id="CIC-DEMO-X", serial=None):
    return license_text(demo_private_key(), server_id=server_id, entitlements=LINES, serial=serial)


def _tables():
    return LicenseFile.objects.count(), Entitlement.objects.count(), Server.objects.count()


@pytest.fixture
def production(settings):
    """DEBUG off, with IWP_TRUST_DEMO_KEY left on: what the attacker found."""
    settings.DEBUG = False
    settings.IWP_TRUST_DEMO_KEY = True
    return settings


@pytest.fixture
def demo_license_installed_in_development(settings):
    """A demo-signed license installed on a development machine, which then became production."""
    settings.DEBUG = True
    settings.IWP_TRUST_DEMO_KEY = True
    license_file = license_file_import(text=_demo_signed(serial="DEMO-1"))
    settings.DEBUG = False
    settings.IWP_TRUST_DEMO_KEY = False
    return license_file


def test_demo_signed_file_installs_on_a_development_machine(settings):
    settings.DEBUG = True
    settings.IWP_TRUST_DEMO_KEY = True
    assert license_file_import(text=_demo_signed()).key_id == demo_key_id()


def test_service_refuses_the_demo_key_with_debug_off_even_if_trusted(production):
    before = _tables()
    with pytest.raises(LicenseFileError) as refused:
        license_file_import(text=_demo_signed())
    assert (refused.value.reason, refused.value.key_id) == ("demo_key", demo_key_id())
    assert refused.value.message == (
        f"The license file is signed with the public demo key ({demo_key_id()}), which anybody "
        "can sign with: it is trusted only on a development machine (DEBUG and "
        "IWP_TRUST_DEMO_KEY on). Install a license file signed by the vendor."
    )
    assert _tables() == before


def test_listing_the_demo_key_in_the_trusted_keys_does_not_trust_it(production, vendor_key):
    production.IWP_TRUST_DEMO_KEY = False
    production.IWP_LICENSE_PUBLIC_KEYS = [
        public_key_b64(vendor_key.public_key()),
        public_key_b64(demo_private_key().public_key()),
    ]
    with pytest.raises(LicenseFileError) as refused:
        license_file_import(text=_demo_signed())
    assert refused.value.reason == "demo_key"
    assert not LicenseFile.objects.exists()


def test_admin_install_refuses_the_demo_key_with_debug_off(production, client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/licenses/licensefile/install/",
        {"file": SimpleUploadedFile("demo.lic", _demo_signed().encode()), "server": ""},
    )
    assert response.status_code == 200
    assert "signed with the public demo key" in response.content.decode()
    assert not LicenseFile.objects.exists()


def test_import_license_refuses_the_demo_key_in_process(production, tmp_path):
    (tmp_path / "demo.lic").write_text(_demo_signed())
    with pytest.raises(Exception, match=r"refused \(demo_key\)"):
        call_command("import_license", str(tmp_path / "demo.lic"), skip_checks=True)
    assert not LicenseFile.objects.exists()


def _production_env(**extra):
    """A production environment for a subprocess, on the test database."""
    db = connection.settings_dict
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IWP_", "SECURE_", "DEBUG", "DJANGO_"))
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="iwp.example.com",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        **extra,
    )
    return env


def _run(*args, env):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_import_license_with_skip_checks_refuses_the_demo_key(tmp_path):
    """As the attacker ran it: IWP_TRUST_DEMO_KEY=1 DEBUG=0, skipping the system checks."""
    (tmp_path / "demo.lic").write_text(_demo_signed())
    env = _production_env(IWP_TRUST_DEMO_KEY="1")
    result = _run(
        "manage.py", "import_license", "--skip-checks", str(tmp_path / "demo.lic"), env=env
    )
    assert result.returncode == 1
    assert "demo.lic was refused (demo_key)" in result.stderr
    assert not LicenseFile.objects.exists()


def test_the_wsgi_application_refuses_to_start_with_the_demo_key_trusted_in_production():
    env = _production_env(IWP_TRUST_DEMO_KEY="1")
    result = _run("-m", "gunicorn", "--check-config", "iwp_licensing.wsgi", env=env)
    assert result.returncode != 0
    assert "IWP_TRUST_DEMO_KEY is on with DEBUG off" in result.stderr
    assert "Unset IWP_TRUST_DEMO_KEY" in result.stderr


def test_the_wsgi_application_starts_in_production_without_the_demo_key():
    result = _run("-m", "gunicorn", "--check-config", "iwp_licensing.wsgi", env=_production_env())
    assert result.returncode == 0, result.stderr


def test_check_reports_a_demo_signed_license_in_force(demo_license_installed_in_development):
    [error] = checks.check_no_demo_signed_license_in_force(None)
    assert error.id == "licenses.E003"
    assert "CIC-DEMO-X (license DEMO-1)" in error.msg
    with pytest.raises(SystemCheckError, match="licenses.E003"):
        call_command("check")
    with pytest.raises(SystemCheckError, match="licenses.E003"):
        call_command("check", "--deploy")


def test_check_is_quiet_on_a_development_machine(demo_license_installed_in_development, settings):
    settings.DEBUG = True
    assert checks.check_no_demo_signed_license_in_force(None) == []


def test_check_is_quiet_once_a_vendor_license_replaces_it(
    demo_license_installed_in_development, vendor_key
):
    license_file_import(text=license_text(vendor_key, server_id="CIC-DEMO-X", entitlements=LINES))
    assert checks.check_no_demo_signed_license_in_force(None) == []


def test_check_without_a_database_reports_nothing(monkeypatch):
    def no_database():
        raise OperationalError("connection refused")

    monkeypatch.setattr(checks, "license_files_signed_with_demo_key", no_database)
    assert checks.check_no_demo_signed_license_in_force(None) == []


@pytest.mark.django_db(transaction=True)
def test_check_deploy_in_production_names_the_demo_signed_license(
    demo_license_installed_in_development,
):
    """As an operator runs it, in a separate process against the same (committed) database."""
    env = _production_env()
    result = _run("manage.py", "check", "--deploy", env=env)
    assert result.returncode != 0
    assert "licenses.E003" in result.stderr


def test_admin_home_names_demo_signed_licenses_in_a_red_banner(
    demo_license_installed_in_development, client
):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    page = client.get("/admin/").content.decode()
    assert 'class="errornote" id="demo-signed-licenses"' in page
    assert "server CIC-DEMO-X (license DEMO-1)" in page
    assert "signed by the public demo key: install a vendor-signed license" in page


def test_admin_home_has_no_banner_for_vendor_licenses(vendor_key, client):
    license_file_import(text=license_text(vendor_key, server_id="CIC-OK", entitlements=LINES))
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    assert "demo-signed-licenses" not in client.get("/admin/").content.decode()
