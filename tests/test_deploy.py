"""Production settings pass Django's deployment checks; the public demo key is refused there;
cookies are Secure whenever DEBUG is off, even where the TLS proxy does the HTTPS redirect."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[1]


def _production_env(**extra):
    public = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    # A production environment: nothing a test run set up (test settings, async-unsafe switches).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("IWP_", "SECURE_", "DEBUG", "DJANGO_"))
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="iwp.example.com",
        IWP_LICENSE_PUBLIC_KEYS=base64.b64encode(public).decode(),
        **extra,
    )
    return env


def _manage(env, *args):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _check(env):
    return _manage(env, "check", "--deploy", "--fail-level", "WARNING")


def test_check_deploy_is_clean_with_production_settings():
    result = _check(_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_the_demo_key_is_trusted_in_production():
    result = _check(_production_env(IWP_TRUST_DEMO_KEY="1"))
    assert result.returncode != 0
    assert "licenses.E001" in result.stderr


def test_missing_secret_key_is_a_clear_error():
    env = _production_env()
    del env["SECRET_KEY"]
    result = _check(env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_cookies_stay_secure_when_the_tls_proxy_does_the_redirect():
    env = _production_env(SECURE_SSL_REDIRECT="0")
    shown = _manage(
        env,
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1].split() == ["False", "True", "True"]
    # Django's own checks agree: only the redirect is reported, not the cookies.
    result = _check(env)
    report = result.stdout + result.stderr
    assert "security.W008" in report
    assert "security.W012" not in report and "security.W016" not in report


def test_cookies_are_not_secure_while_developing():
    env = {**_production_env(), "DEBUG": "1"}
    shown = _manage(
        env,
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1].split() == ["False", "False"]
