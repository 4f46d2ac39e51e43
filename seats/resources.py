"""CSV import of users with their organization, role, method and seat (django-import-export).

Columns: username, email, first_name, last_name, server, organization, role, method, seat.
``role`` is agent / supervisor / org_admin; ``method`` assigned / concurrent; ``seat`` yes or
empty (an Assignable seat, through the seat service, for Assigned users). Each refused row names
its line and field; when any row is refused nothing is written (the import runs in one
transaction and rolls back, also at the confirm step).
"""

from django.core.exceptions import ValidationError
from import_export import fields, resources

from licenses.exceptions import LicenseLimitReached
from organizations.models import Membership, Organization, User
from seats.services.assignments import seat_assign, user_change_method

YES = {"yes", "y", "true", "1", "x"}
NO = {"", "no", "n", "false", "0"}


class UserImportResource(resources.ModelResource):
    server = fields.Field(column_name="server", readonly=True)
    organization = fields.Field(column_name="organization", readonly=True)
    role = fields.Field(column_name="role", readonly=True)
    method = fields.Field(column_name="method", readonly=True)
    seat = fields.Field(column_name="seat", readonly=True)

    class Meta:
        model = User
        fields = [
            "username",
            "email",
            "first_name",
            "last_name",
            "server",
            "organization",
            "role",
            "method",
            "seat",
        ]
        import_id_fields = ["username"]
        skip_unchanged = False
        use_transactions = True
        clean_model_instances = True

    def import_data(self, dataset, **kwargs):
        kwargs["rollback_on_validation_errors"] = True  # one refused row: nothing is written
        return super().import_data(dataset, **kwargs)

    def _organizations(self, server_id: str, name: str) -> list[Organization]:
        """The organizations a row's name (and server, when given) matches, looked up once per
        file (rows of one organization share it)."""
        cache = self.__dict__.setdefault("_organizations_named", {})
        if (server_id, name) not in cache:
            cache[(server_id, name)] = list(
                Organization.objects.filter(
                    name=name, **({"server__server_id": server_id} if server_id else {})
                )
                .select_related("server")
                .order_by("server__server_id")[:10]
            )
        return cache[(server_id, name)]

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        if instance.pk is None:
            instance.set_unusable_password()  # imported users set their password through a reset
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        value = lambda name: str(row.get(name) or "").strip()  # noqa: E731
        server_id, org_name = value("server"), value("organization")
        organization = None
        if not org_name:
            errors["organization"] = ["Required: the organization the user belongs to."]
        else:
            matches = self._organizations(server_id, org_name)
            if not matches:
                where = f" on server {server_id}" if server_id else ""
                errors["organization"] = [f"No organization named “{org_name}”{where}."]
            elif len(matches) > 1:
                servers = ", ".join(o.server.server_id for o in matches)
                errors["organization"] = [
                    f"“{org_name}” is an organization on more than one server ({servers}): "
                    "name the server in a “server” column."
                ]
            else:
                organization = matches[0]
        role = value("role").lower() or Membership.Role.AGENT
        if role not in Membership.Role.values:
            errors["role"] = [f"“{role}” is not a role: use agent, supervisor or org_admin."]
        method = value("method").lower() or User.LicenseMethod.ASSIGNED
        if method not in User.LicenseMethod.values:
            errors["method"] = [f"“{method}” is not a license method: use assigned or concurrent."]
        seat = value("seat").lower()
        if seat not in YES | NO:
            errors["seat"] = [f"“{seat}” is not yes or empty."]
        elif seat in YES and method == User.LicenseMethod.CONCURRENT:
            errors["seat"] = ["Concurrent users take a seat when they log in: leave “seat” empty."]
        instance._import = {
            "organization": organization,
            "role": role,
            "method": method,
            "seat": seat in YES,
        }
        if errors:
            raise ValidationError(errors)

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk is None:
            instance.license_method = instance._import["method"]

    def after_save_instance(self, instance, row, **kwargs):
        data, acting_user = instance._import, kwargs.get("user")
        if instance.license_method != data["method"]:
            user_change_method(user=instance, method=data["method"], acting_user=acting_user)
        Membership.objects.update_or_create(
            user=instance, organization=data["organization"], defaults={"role": data["role"]}
        )
        if data["seat"]:
            try:
                seat_assign(user=instance, acting_user=acting_user)
            except LicenseLimitReached as exc:
                raise ValidationError({"seat": [str(exc)]}) from None
