"""Test data. Organizations and license files go through the services, as in the product."""

from datetime import date, timedelta

import factory
from django.utils import timezone

from licenses.licensefile import EntitlementSpec, LicenseContent, parse_entitlement_spec, sign
from licenses.services import license_file_import
from organizations.models import Membership, Organization, Server, Station, User


class ServerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Server
        django_get_or_create = ("server_id",)

    server_id = factory.Sequence(lambda n: f"CIC-TEST-{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Server {o.server_id}")


class OrganizationFactory(factory.django.DjangoModelFactory):
    """Writes directly, bypassing the Organization count: for setting up data, not for
    testing the rule."""

    class Meta:
        model = Organization

    server = factory.SubFactory(ServerFactory)
    name = factory.Sequence(lambda n: f"Organization {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.AGENT


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Station {n}")


_serial = iter(range(1, 10**9))


def license_text(
    private_key,
    *,
    server_id,
    entitlements,
    serial=None,
    customer="Test Customer",
    starts_on=None,
    expires_on=None,
    issued_on=None,
):
    """A signed license file; ``entitlements`` are issue_license specs or
    EntitlementSpec objects."""
    today = timezone.localdate()
    starts_on = starts_on or today - timedelta(days=1)
    expires_on = expires_on or today + timedelta(days=365)
    specs = tuple(parse_entitlement_spec(e) if isinstance(e, str) else e for e in entitlements)
    content = LicenseContent(
        serial=serial or f"TEST-{next(_serial):06d}-{server_id}",
        customer=customer,
        server_id=server_id,
        issued_on=issued_on or today,
        starts_on=starts_on,
        expires_on=expires_on,
        entitlements=specs,
    )
    return sign(content, private_key)


def install_license(private_key, *, server_id, entitlements, **kwargs):
    """Sign and install a license file through the import service; returns the LicenseFile."""
    return license_file_import(
        text=license_text(private_key, server_id=server_id, entitlements=entitlements, **kwargs)
    )


__all__ = [
    "ServerFactory",
    "OrganizationFactory",
    "UserFactory",
    "MembershipFactory",
    "StationFactory",
    "license_text",
    "install_license",
    "EntitlementSpec",
    "date",
]
