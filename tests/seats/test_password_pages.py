"""A user created without a password (the admin, the CSV import) sets one from the login page's
"Forgot your password?" link, through pages in the product's own look."""

import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_imported_user_without_a_password_sets_one_and_logs_in(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    user = UserFactory(username="zoe", email="Zoe@Example.com")
    user.set_unusable_password()
    user.save()
    client = Client()
    login_page = client.get("/accounts/login/").content.decode()
    assert (
        'href="/accounts/password_reset/"' in login_page and "Forgot your password?" in login_page
    )

    page = client.get("/accounts/password_reset/").content.decode()
    assert "IWP Licensing" in page and "Django administration" not in page
    done = client.post("/accounts/password_reset/", {"email": "zoe@example.com"}, follow=True)
    assert "Check your e-mail" in done.content.decode()
    [message] = mail.outbox
    assert message.to == ["Zoe@Example.com"]
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", message.body).group(1)

    form = client.get(link, follow=True)
    assert "Choose a password" in form.content.decode()
    saved = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"},
        follow=True,
    )
    assert "Password saved" in saved.content.decode()
    fresh = Client()
    response = fresh.post(
        "/accounts/login/", {"username": "zoe", "password": "a long new passphrase"}
    )
    assert response.status_code == 302
