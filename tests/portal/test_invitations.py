"""Onboarding (issue 12): users created without a password are e-mailed an invitation to choose
one, from the admin (on create and as an action) and after a CSV import. The link works once,
expires, and a resend supersedes it. Mail goes through the outbox to a real SMTP server."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from notifications.models import OutboxMessage
from notifications.services import outbox_deliver
from organizations.models import Membership, User
from portal.models import Invitation
from tests.factories import UserFactory

from ..notifications.smtp import body_of

pytestmark = pytest.mark.django_db
PASSWORD = "a long new password 42"
LINK = re.compile(r"http://testserver(/accounts/invitation/[^/\s]+/)")


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def mailed_link(smtp_server, message: OutboxMessage) -> str:
    """Deliver ``message`` to the SMTP server and return the path of the link it carries."""
    assert outbox_deliver(message_id=message.pk) is True
    received = smtp_server.messages[-1]["message"]
    return LINK.search(body_of(received)).group(1)


def add_user_without_password(admin_client, username="nina", email="nina@example.com"):
    return admin_client.post(
        "/admin/organizations/user/add/",
        {
            "username": username,
            "email": email,
            "license_method": "concurrent",
            "usable_password": "false",
            "send_invitation": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "_save": "Save",
        },
    )


def choose_password(client, path):
    return client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})


def test_user_created_without_password_gets_a_mail_whose_link_sets_it_once(
    admin_client, client, smtp_server
):
    response = add_user_without_password(admin_client)
    assert response.status_code == 302
    nina = User.objects.get(username="nina")
    assert not nina.has_usable_password()
    invitation = Invitation.objects.get(user=nina)
    assert invitation.sent_by.username == "root"
    message = OutboxMessage.objects.get(dedupe_key=f"invitation:{invitation.pk}")
    assert message.to == ["nina@example.com"]
    path = mailed_link(smtp_server, message)
    received = smtp_server.messages[-1]["message"]
    assert "Your username is: nina" in body_of(received)

    admin_client.logout()
    page = client.get(path)
    assert page.status_code == 200 and "Choose your password" in page.content.decode()
    done = choose_password(client, path)
    assert done.status_code == 302 and done["Location"] == "/accounts/login/"
    nina.refresh_from_db()
    assert nina.check_password(PASSWORD)
    signed_in = client.post("/accounts/login/", {"username": "nina", "password": PASSWORD})
    assert signed_in.status_code == 302 and "_auth_user_id" in client.session
    client.post("/accounts/logout/")

    again = client.get(path)
    assert again.status_code == 410
    assert "already chosen" in again.content.decode()


def test_add_form_asks_for_an_address_when_an_invitation_is_to_be_sent(admin_client):
    response = add_user_without_password(admin_client, email="")
    assert response.status_code == 200
    assert "Enter the e-mail address the invitation goes to" in response.content.decode()
    assert not User.objects.filter(username="nina").exists()


def test_an_invitation_expires(admin_client, client, settings):
    settings.IWP_INVITATION_DAYS = 3
    add_user_without_password(admin_client)
    invitation = Invitation.objects.get()
    from portal.services import invitation_token

    path = f"/accounts/invitation/{invitation_token(invitation)}/"
    admin_client.logout()
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        response = client.get(path)
        assert response.status_code == 410
        assert "This invitation expired on" in response.content.decode()
        assert choose_password(client, path).status_code == 410
    assert not User.objects.get(username="nina").has_usable_password()


def test_sending_again_supersedes_the_first_link(admin_client, client, smtp_server):
    add_user_without_password(admin_client)
    nina = User.objects.get(username="nina")
    first = mailed_link(smtp_server, OutboxMessage.objects.get())
    response = admin_client.post(
        "/admin/organizations/user/",
        {"action": "send_invitations", "_selected_action": [nina.pk]},
        follow=True,
    )
    assert "Invitation sent to 1 user(s): nina." in response.content.decode()
    second = mailed_link(smtp_server, OutboxMessage.objects.order_by("-pk").first())
    assert second != first
    admin_client.logout()
    old = client.get(first)
    assert old.status_code == 410 and "A newer invitation was sent" in old.content.decode()
    assert choose_password(client, second).status_code == 302


def test_the_action_names_each_user_it_cannot_invite_and_invites_the_others(admin_client):
    with_password = UserFactory(username="has.password", email="hp@example.com")
    no_mail = UserFactory(username="no.mail", email="")
    no_mail.set_unusable_password()
    no_mail.save()
    ready = UserFactory(username="ready", email="ready@example.com")
    ready.set_unusable_password()
    ready.save()
    response = admin_client.post(
        "/admin/organizations/user/",
        {
            "action": "send_invitations",
            "_selected_action": [with_password.pk, no_mail.pk, ready.pk],
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Invitation sent to 1 user(s): ready." in body
    assert "has.password already has a password" in body
    assert "no.mail has no e-mail address: add one" in body
    assert list(Invitation.objects.values_list("user__username", flat=True)) == ["ready"]


def test_user_page_shows_the_invitation_and_sends_it_again(admin_client):
    add_user_without_password(admin_client)
    nina = User.objects.get(username="nina")
    page = admin_client.get(f"/admin/organizations/user/{nina.pk}/change/").content.decode()
    assert "Last sent" in page and "nina@example.com" in page and "Waiting, link works" in page
    assert "Send the invitation again" in page
    response = admin_client.post(f"/admin/organizations/user/{nina.pk}/invite/")
    assert response.status_code == 302
    assert Invitation.objects.filter(user=nina).count() == 2


def test_a_csv_import_invites_the_new_users(admin_client, org):
    UserFactory(username="existing", email="existing@example.com")
    csv = (
        "username,email,first_name,last_name,server,organization,role,method,seat\n"
        f"new.one,one@example.com,New,One,{org.server.server_id},{org.name},agent,concurrent,\n"
        f"new.two,,New,Two,{org.server.server_id},{org.name},agent,concurrent,\n"
        f"existing,existing@example.com,Ex,Isting,{org.server.server_id},{org.name},agent,concurrent,\n"
    )
    preview = admin_client.post(
        "/admin/organizations/user/import/",
        {"import_file": SimpleUploadedFile("users.csv", csv.encode()), "format": "0"},
    )
    assert preview.status_code == 200
    confirm = preview.context["confirm_form"]
    response = admin_client.post(
        "/admin/organizations/user/process_import/", confirm.initial, follow=True
    )
    body = response.content.decode()
    assert Membership.objects.filter(organization=org).count() == 3
    assert "Invitation sent to 1 user(s): new.one." in body
    assert "new.two has no e-mail address" in body
    assert list(Invitation.objects.values_list("user__username", flat=True)) == ["new.one"]


def test_an_invitation_withdrawn_while_its_page_is_open_sets_no_password():
    from django.core.exceptions import ValidationError

    from portal.services import (
        invitation_accept,
        invitation_from_token,
        invitation_send,
        invitation_token,
        invitations_withdraw,
    )

    nina = UserFactory(username="nina", email="nina@example.com")
    nina.set_unusable_password()
    nina.save()
    sent = invitation_send(user=nina, acting_user=None, site_url="http://testserver")
    opened, _why = invitation_from_token(invitation_token(sent))  # the page is open
    assert opened is not None
    assert invitations_withdraw(user=nina, acting_user=None) == 1
    assert invitations_withdraw(user=nina, acting_user=None) == 0  # once
    with pytest.raises(ValidationError) as refused:
        invitation_accept(invitation=opened, password=PASSWORD)
    assert "This invitation was withdrawn on " in refused.value.messages[0]
    nina.refresh_from_db()
    assert not nina.has_usable_password()
