"""The Organization count is enforced where organizations are created, under concurrency."""

import pytest
from django.core.exceptions import ValidationError

from licenses.exceptions import LicenseLimitReached
from licenses.services import organization_create, organization_update
from organizations.models import Organization
from tests.concurrency import race
from tests.factories import OrganizationFactory


@pytest.mark.django_db
def test_organizations_up_to_the_count_are_created(licensed_server):
    server = licensed_server(entitlements=["server", "organization=2"])
    organization_create(server=server, name="Acme")
    organization_create(server=server, name="Globex")
    with pytest.raises(LicenseLimitReached) as exc:
        organization_create(server=server, name="Initech")
    assert str(exc.value) == (
        f"The Organization license of server {server.server_id} is used up: "
        "2 of 2 organizations in use. "
        "Deactivate an organization or install a license with more organizations."
    )
    refusal = exc.value
    assert (refusal.server_id, refusal.license_type, refusal.code) == (
        server.server_id,
        "organization",
        "pool_full",
    )
    assert (refusal.in_use, refusal.capacity) == (2, 2)  # the counts, not the defaults
    assert sorted(Organization.objects.values_list("name", flat=True)) == ["Acme", "Globex"]


@pytest.mark.django_db
def test_overage_allowance_lets_a_few_more_in(licensed_server):
    server = licensed_server(entitlements=["server", "organization=10+20%"])
    for i in range(12):
        organization_create(server=server, name=f"Org {i}")
    with pytest.raises(LicenseLimitReached, match="12 of 12 organizations in use"):
        organization_create(server=server, name="One too many")


@pytest.mark.django_db
def test_server_without_organization_license_is_refused(licensed_server):
    server = licensed_server(entitlements=["server", "marquee"])
    with pytest.raises(LicenseLimitReached) as exc:
        organization_create(server=server, name="Acme")
    assert "Marquee-only" in str(exc.value) and "0 of 0 organizations in use" in str(exc.value)
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_inactive_organizations_do_not_count_but_reactivation_is_enforced(licensed_server):
    server = licensed_server(entitlements=["server", "organization=1"])
    first = organization_create(server=server, name="Acme")
    organization_update(organization=first, is_active=False)
    second = organization_create(server=server, name="Globex")
    with pytest.raises(LicenseLimitReached, match="1 of 1 organizations in use"):
        organization_update(organization=first, is_active=True)
    first.refresh_from_db()
    assert not first.is_active and second.is_active


@pytest.mark.django_db
def test_expired_organization_entitlement_counts_as_zero(licensed_server):
    import datetime

    from django.utils import timezone

    server = licensed_server(entitlements=["server", "organization=5"])
    OrganizationFactory(server=server)
    later = timezone.localdate() + datetime.timedelta(days=400)
    with pytest.raises(LicenseLimitReached, match="has no valid Organization license"):
        organization_create(server=server, name="Late", day=later)


@pytest.mark.django_db(transaction=True)
def test_racing_creations_never_exceed_the_count(licensed_server):
    """Eight threads on their own connections race for the last two organization licenses."""
    server = licensed_server(entitlements=["server", "organization=3"])
    organization_create(server=server, name="Existing")
    results = race(8, lambda i: organization_create(server=server, name=f"Racer {i}"))
    outcomes = [
        "refused"
        if isinstance(r, LicenseLimitReached)
        else "created"
        if isinstance(r, Organization)
        else r
        for r in results
    ]
    assert sorted(outcomes) == ["created"] * 2 + ["refused"] * 6
    assert Organization.objects.filter(server=server, is_active=True).count() == 3


@pytest.mark.django_db
def test_a_blank_or_taken_name_is_refused_naming_the_field_and_nothing_is_written(
    licensed_server,
):
    server = licensed_server(entitlements=["server", "organization=5"])
    organization_create(server=server, name="Contoso")
    for name, words in [("", "This field cannot be blank."), ("Contoso", "already exists")]:
        with pytest.raises(ValidationError) as refused:
            organization_create(server=server, name=name)
        assert words in " ".join(refused.value.message_dict.get("name", [])) + " ".join(
            refused.value.messages
        )
    assert list(Organization.objects.values_list("name", flat=True)) == ["Contoso"]


@pytest.mark.django_db
def test_renaming_to_a_taken_or_blank_name_is_refused_and_the_name_stays(licensed_server):
    server = licensed_server(entitlements=["server", "organization=5"])
    organization_create(server=server, name="Contoso")
    fabrikam = organization_create(server=server, name="Fabrikam")
    for name in ("Contoso", "", "x" * 201):
        with pytest.raises(ValidationError):
            organization_update(organization=fabrikam, name=name)
    fabrikam.refresh_from_db()
    assert fabrikam.name == "Fabrikam"
    assert organization_update(organization=fabrikam, name="Fabrikam Ltd").name == "Fabrikam Ltd"


@pytest.mark.django_db
def test_renaming_an_inactive_organization_needs_no_room(licensed_server):
    server = licensed_server(entitlements=["server", "organization=1"])
    organization_create(server=server, name="Acme")
    dormant = organization_create(server=server, name="Globex", is_active=False)
    renamed = organization_update(organization=dormant, name="Globex (dormant)")
    assert (renamed.name, renamed.is_active) == ("Globex (dormant)", False)


@pytest.mark.django_db
def test_reactivating_the_wallboard_organization_needs_marquee_not_an_organization_seat(
    licensed_server,
):
    server = licensed_server(entitlements=["server", "organization=1", "marquee"])
    organization_create(server=server, name="Acme")
    wall = organization_create(server=server, name="Wall", is_wallboard=True)
    organization_update(organization=wall, is_active=False)
    assert organization_update(organization=wall, is_active=True).is_active


@pytest.mark.django_db
def test_reactivation_is_judged_on_the_day_it_is_asked_for(licensed_server):
    import datetime

    from django.utils import timezone

    server = licensed_server(entitlements=["server", "organization=5"])
    dormant = organization_create(server=server, name="Dormant", is_active=False)
    later = timezone.localdate() + datetime.timedelta(days=400)  # the license has expired
    with pytest.raises(LicenseLimitReached, match="has no valid Organization license"):
        organization_update(organization=dormant, is_active=True, day=later)
    assert organization_update(organization=dormant, is_active=True).is_active


@pytest.mark.django_db
def test_the_audit_trail_names_who_renamed_an_organization(licensed_server):
    from tests.factories import UserFactory
    from tests.history import history

    server = licensed_server(entitlements=["server", "organization=5"])
    admin = UserFactory(username="ann-admin", is_staff=True)
    org = organization_create(server=server, name="Acme", acting_user=admin)
    organization_update(organization=org, name="Acme Ltd", acting_user=admin)
    assert [(e.label, e.actor) for e in history(org)] == [
        ("insert", "ann-admin"),
        ("update", "ann-admin"),
    ]


@pytest.mark.django_db
def test_each_refusal_of_an_organization_says_what_the_server_lacks_and_what_to_do(
    licensed_server,
):
    import datetime

    from django.utils import timezone

    from licenses.exceptions import LicenseMissing
    from licenses.services import organization_check_room

    plain = licensed_server(server_id="CIC-PLAIN", entitlements=["server"])
    with pytest.raises(LicenseMissing) as no_marquee:
        organization_create(server=plain, name="Wall", is_wallboard=True)
    assert str(no_marquee.value) == (
        "A wallboard organization needs the Marquee license, and server CIC-PLAIN has no valid "
        "one. Install a license file with Marquee."
    )
    assert (no_marquee.value.server_id, no_marquee.value.license_type) == ("CIC-PLAIN", "marquee")
    with pytest.raises(LicenseLimitReached) as refused:
        organization_check_room(server=plain)  # an ordinary organization by default
    assert str(refused.value) == (
        "Server CIC-PLAIN has no valid Organization license: 0 of 0 organizations in use. "
        "Install a license file with an Organization entitlement."
    )
    assert (
        refused.value.server_id,
        refused.value.license_type,
        refused.value.in_use,
        refused.value.capacity,
    ) == ("CIC-PLAIN", "organization", 0, 0)

    marquee = licensed_server(server_id="CIC-MARQ", entitlements=["server", "marquee"])
    with pytest.raises(LicenseLimitReached) as marquee_only:
        organization_create(server=marquee, name="Ordinary")
    assert str(marquee_only.value) == (
        "Server CIC-MARQ is Marquee-only (no Organization license): 0 of 0 organizations in use. "
        "Install a license file with an Organization entitlement, or make this the server's "
        "wallboard organization (its members see the wallboard only)."
    )
    later = timezone.localdate() + datetime.timedelta(days=400)  # the license has expired
    with pytest.raises(LicenseMissing):
        organization_create(server=marquee, name="Wall", is_wallboard=True, day=later)
    with pytest.raises(LicenseLimitReached, match="has no valid Organization license"):
        organization_create(server=marquee, name="Late", day=later)
    assert organization_create(server=marquee, name="Wall", is_wallboard=True).is_wallboard
