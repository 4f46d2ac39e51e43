"""The tenancy tree: Server -> Organization -> Membership(User) and Station."""

import pghistory
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Server(models.Model):
    """One contact-center (CIC) server, identified by the server id its license file names."""

    server_id = models.CharField(
        _("server id"),
        max_length=100,
        unique=True,
        help_text=_("The id the license file is issued for, e.g. CIC-PROD-01."),
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("server")
        verbose_name_plural = _("servers")
        ordering = ["server_id"]

    def __str__(self):
        return f"{self.name} ({self.server_id})" if self.name else self.server_id


def search_index(field: str, name: str) -> GinIndex:
    """A trigram index for the admin's search: ``icontains`` compiles to ``UPPER(col) LIKE
    UPPER('%term%')``, which this index (on the same expression) answers without reading the
    table, whatever the term's position in the value."""
    return GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=name)


class OrganizationQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def counted(self):
        """The active organizations the Organization license counts (not a wallboard one)."""
        return self.filter(is_active=True, is_wallboard=False)


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Organization(models.Model):
    """A tenant on one server. Its data is kept apart from every other organization."""

    server = models.ForeignKey(
        Server, on_delete=models.PROTECT, related_name="organizations", verbose_name=_("server")
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive organizations do not use a license.")
    )
    is_wallboard = models.BooleanField(
        _("wallboard only"),
        default=False,
        help_text=_(
            "The server's wallboard organization (at most one, on a server with the Marquee "
            "license): it needs no Organization license, its members need no access seat, and "
            "they see only the wallboard. Set when the organization is created."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["server__server_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "name"], name="organization_unique_name_per_server"
            ),
            models.UniqueConstraint(
                fields=["server"],
                condition=models.Q(is_wallboard=True),
                name="organization_one_wallboard_per_server",
                violation_error_message=_(
                    "This server has a wallboard organization already: add the people who watch "
                    "the wallboard to it."
                ),
            ),
        ]
        indexes = [search_index("name", "organization_name_trgm")]

    def __str__(self):
        return self.name


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["password", "last_login"],
)
class User(AbstractUser):
    """A person who logs in. Every license a user holds is of one method: Assigned or Concurrent."""

    class LicenseMethod(models.TextChoices):
        ASSIGNED = "assigned", _("Assigned")
        CONCURRENT = "concurrent", _("Concurrent")

    license_method = models.CharField(
        _("license method"),
        max_length=20,
        choices=LicenseMethod.choices,
        default=LicenseMethod.ASSIGNED,
        help_text=_(
            "Assigned users hold a seat while it is assigned to them or their station; "
            "Concurrent users take a seat when they log in and release it when they log out."
        ),
    )

    threshold_alert_mail = models.BooleanField(
        _("e-mail me utilisation alerts"),
        default=False,
        help_text=_(
            "As a supervisor or organization administrator: receive the mail sent when an "
            "organization's seats reach an alert threshold (IWP_ALERT_THRESHOLDS). Each user "
            "chooses it on their portal profile."
        ),
    )

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        swappable = "AUTH_USER_MODEL"
        indexes = [
            search_index("username", "user_username_trgm"),
            search_index("email", "user_email_trgm"),
            search_index("first_name", "user_first_name_trgm"),
            search_index("last_name", "user_last_name_trgm"),
        ]

    def __str__(self):
        return self.username


class PortalFeature(models.TextChoices):
    """The supervisor portal's features. A supervisor or organization-admin membership gives
    every one the server's licenses allow (managing users and seats: organization admins only);
    an administrator may withhold some of them on the membership (portal/features.py applies
    the licenses, the role, the seat and the withholding)."""

    SEAT_USAGE = "seat_usage", _("Seat usage")
    SEAT_HOLDERS = "seat_holders", _("Who holds what")
    USAGE_HISTORY = "usage_history", _("History")
    RENEWAL = "renewal", _("Renewal")
    EXPORTS = "exports", _("CSV exports")
    COMPLIANCE = "compliance", _("Compliance")
    SCHEDULED_REPORTS = "scheduled_reports", _("Scheduled reports")
    WALLBOARD = "wallboard", _("Wallboard")
    MANAGE = "manage", _("Manage users and seats")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Membership(models.Model):
    """A user's role in one organization. A user may hold different roles in
    different organizations."""

    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        SUPERVISOR = "supervisor", _("Supervisor")
        ORG_ADMIN = "org_admin", _("Organization admin")

    SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.ORG_ADMIN)

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    withheld_features = ArrayField(
        models.CharField(max_length=40, choices=PortalFeature.choices),
        verbose_name=_("withheld portal features"),
        default=list,
        blank=True,
        help_text=_(
            "A supervisor or organization administrator gets every portal feature the server's "
            "licenses allow. Tick a feature to withhold it from this user in this organization."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organization__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_one_role_per_organization"
            ),
            models.CheckConstraint(
                condition=models.Q(withheld_features__contained_by=PortalFeature.values),
                name="membership_withheld_features_known",
                violation_error_message=_("Only portal features can be withheld."),
            ),
        ]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} of {self.organization}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Station(models.Model):
    """A named workstation of an organization. Stations hold only Assignable seats."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="stations",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=100, db_index=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="station_unique_name_per_organization"
            ),
        ]
        indexes = [search_index("name", "station_name_trgm")]

    def __str__(self):
        return f"{self.name} ({self.organization})"
