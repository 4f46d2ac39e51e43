"""The operator commands: generate a key, issue a file with it, install it;
refusals exit non-zero."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from licenses.models import LicenseFile

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _public_key_line(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("IWP_LICENSE_PUBLIC_KEYS="))
    return line.split("=", 1)[1]


def test_generated_key_issues_a_license_that_installs(tmp_path, settings, capsys):
    call_command("generate_license_key", out=str(tmp_path / "vendor.pem"))
    settings.IWP_LICENSE_PUBLIC_KEYS = [_public_key_line(capsys.readouterr().out)]
    assert oct((tmp_path / "vendor.pem").stat().st_mode)[-3:] == "600"
    call_command(
        "issue_license",
        "--entitlement=server",
        "--entitlement=organization=4",
        "--entitlement=agent:concurrent=50+10%",
        key=str(tmp_path / "vendor.pem"),
        server_id="CIC-CMD",
        customer="Acme",
        expires="2099-12-31",
        out=str(tmp_path / "acme.lic"),
    )
    call_command("import_license", str(tmp_path / "acme.lic"))
    out = capsys.readouterr().out
    assert "installed for server CIC-CMD" in out
    lf = LicenseFile.objects.installed().get(server__server_id="CIC-CMD")
    assert lf.entitlements.get(license_type="agent").capacity == 55
    assert str(lf.entitlements.get(license_type="organization").expires_on) == "2099-12-31"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_issue_license_accepts_an_openssl_key(tmp_path, settings):
    from cryptography.hazmat.primitives import serialization

    from licenses.licensefile import public_key_b64

    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(tmp_path / "o.pem")], check=True
    )
    key = serialization.load_pem_private_key((tmp_path / "o.pem").read_bytes(), None)
    settings.IWP_LICENSE_PUBLIC_KEYS = [public_key_b64(key.public_key())]
    call_command(
        "issue_license",
        "--entitlement=server",
        key=str(tmp_path / "o.pem"),
        server_id="CIC-SSL",
        customer="Acme",
        out=str(tmp_path / "o.lic"),
    )
    call_command("import_license", str(tmp_path / "o.lic"))
    assert LicenseFile.objects.filter(server__server_id="CIC-SSL").exists()


@pytest.mark.parametrize(
    "spec, words",
    [
        ("agent=5", "needs a method"),
        ("organization", "give a quantity"),
        ("marquee=3", "takes no quantity"),
        ("seats=4", "unknown license"),
        ("agent:concurrent=five", "expected e.g."),
        ("agent:concurrent=25000000", "25,000,000 is above the maximum of 10,000,000"),
    ],
)
def test_issue_license_rejects_bad_entitlement_specs(tmp_path, vendor_key, spec, words):
    from licenses.licensefile import private_key_pem

    (tmp_path / "k.pem").write_bytes(private_key_pem(vendor_key))
    with pytest.raises(CommandError, match=words):
        call_command(
            "issue_license",
            f"--entitlement={spec}",
            key=str(tmp_path / "k.pem"),
            server_id="S",
            customer="C",
            out=str(tmp_path / "x.lic"),
        )
    assert not (tmp_path / "x.lic").exists()


def test_import_license_refusal_exits_non_zero_with_the_reason(tmp_path, vendor_key, settings):
    """Run as an operator would, in a separate process against the same database."""
    from tests.factories import license_text

    good = license_text(vendor_key, server_id="CIC-CLI", entitlements=["server", "organization=2"])
    (tmp_path / "bad.lic").write_text(good.replace('"quantity": 2', '"quantity": 20'))
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "IWP_LICENSE_PUBLIC_KEYS": ",".join(settings.IWP_LICENSE_PUBLIC_KEYS),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "import_license", str(tmp_path / "bad.lic")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "bad.lic was refused (bad_signature)" in result.stderr
    assert "does not verify" in result.stderr
    assert not LicenseFile.objects.exists()


@pytest.mark.parametrize(
    "options, words",
    [
        ({"server_id": "CIC-\u200bPROD"}, "'server_id' contains U+200B (ZERO WIDTH SPACE)"),
        ({"server_id": "S" * 101}, "'server_id' has 101 characters, more than the 100 allowed"),
        ({"customer": "C" * 201}, "'customer' has 201 characters, more than the 200 allowed"),
        ({"customer": "Acme\x00"}, "'customer' contains U+0000"),
        ({"serial": "IWP-\u20281"}, "'serial' contains U+2028 (LINE SEPARATOR)"),
        ({"entitlement": ["agent:concurrent=5+5000%"]}, "overage_percent outside 0..1000"),
        (
            {"entitlement": ["server", "agent:concurrent=5", "agent:concurrent=6"]},
            "entitlement 3 repeats agent:concurrent",
        ),
        ({"expires": "2027W521"}, "--expires '2027W521' is not a date; use YYYY-MM-DD"),
        ({"starts": "20270101"}, "--starts '20270101' is not a date; use YYYY-MM-DD"),
        ({"starts": "9999-12-31"}, "give --expires too"),
        ({"entitlement": ["agent:concurrent=" + "9" * 5000]}, "5,000 digits is too many"),
        ({"entitlement": ["organization=\uff15"]}, "expected e.g."),
    ],
    ids=[
        "zero-width-server-id",
        "long-server-id",
        "long-customer",
        "nul-in-customer",
        "line-separator-in-serial",
        "overage-5000",
        "repeated-line",
        "week-date",
        "basic-date",
        "no-room-after-start",
        "5000-digit-quantity",
        "full-width-digit",
    ],
)
def test_issue_license_refuses_to_sign_what_import_would_refuse(
    tmp_path, vendor_key, options, words
):
    from licenses.licensefile import private_key_pem

    (tmp_path / "k.pem").write_bytes(private_key_pem(vendor_key))
    options = {
        "server_id": "CIC-ISSUE",
        "customer": "Acme",
        "entitlement": ["server"],
        **options,
    }
    args = [f"--entitlement={spec}" for spec in options.pop("entitlement")]
    with pytest.raises(CommandError) as refused:
        call_command(
            "issue_license",
            *args,
            key=str(tmp_path / "k.pem"),
            out=str(tmp_path / "x.lic"),
            **options,
        )
    assert words in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "x.lic").exists()


def test_issue_license_and_import_share_the_rules(tmp_path, vendor_key, capsys):
    """What issue_license signs at the limits installs: the rule is one function on both sides."""
    from licenses.licensefile import private_key_pem

    (tmp_path / "k.pem").write_bytes(private_key_pem(vendor_key))
    call_command(
        "issue_license",
        "--entitlement=server",
        "--entitlement=agent:concurrent=10000000+1000%",
        key=str(tmp_path / "k.pem"),
        server_id="S" * 100,
        customer="C" * 200,
        serial="N" * 100,
        out=str(tmp_path / "edge.lic"),
    )
    call_command("import_license", str(tmp_path / "edge.lic"))
    lf = LicenseFile.objects.installed().get()
    assert (len(lf.serial), len(lf.customer), len(lf.server.server_id)) == (100, 200, 100)
    assert lf.entitlements.get(license_type="agent").capacity == 110_000_000
