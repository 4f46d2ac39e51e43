"""CSV import of users with their organization, role, method and seat (django-import-export).

The columns, what each holds and the template's example rows are ``COLUMNS`` and
``EXAMPLE_ROWS``: the import page and the downloadable template read them. ``role`` is agent /
supervisor / org_admin; ``method`` assigned / concurrent; ``seat`` yes or empty (an Assignable
seat, through the seat service, for Assigned users). An empty role or method is the default for
a new member or user and leaves an existing one as it is. The file itself is read by
``seats.formats.SniffedCSV``; its header row is checked here. Each refused row names its line
and field; when any row is refused nothing is written (the import runs in one transaction and
rolls back, also at the confirm step). New users get an unusable password.
"""

from dataclasses import dataclass

import tablib
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from import_export import fields, resources
from import_export.results import RowResult

from licenses.exceptions import LicenseLimitReached
from organizations.models import Membership, Organization, User
from seats.formats import ImportFileError
from seats.services.assignments import seat_assign, user_change_method

YES = {"yes", "y", "true", "1", "x"}
NO = {"", "no", "n", "false", "0"}


@dataclass(frozen=True)
class Column:
    """A column of the import file, as the import page explains it."""

    name: str
    required: bool
    meaning: str


COLUMNS = (
    Column(
        "username",
        True,
        "The login name: letters, digits and @ . + - _, at most 150 characters. "
        "A username that exists already updates that user.",
    ),
    Column(
        "email",
        False,
        "The user's e-mail address: a new user is mailed an invitation to choose a password.",
    ),
    Column("first_name", False, "At most 150 characters."),
    Column("last_name", False, "At most 150 characters."),
    Column(
        "server",
        False,
        "The server ID, e.g. CIC-01. Needed only when the organization's name is used on "
        "more than one server.",
    ),
    Column(
        "organization",
        True,
        "The name of an existing organization: the user becomes its member.",
    ),
    Column(
        "role",
        False,
        "agent, supervisor or org_admin. Empty: agent for a new member; an existing member "
        "keeps their role.",
    ),
    Column(
        "method",
        False,
        "assigned or concurrent. Empty: assigned for a new user; an existing user keeps theirs.",
    ),
    Column(
        "seat",
        False,
        "yes to assign an Assignable seat now (Assigned users only), or empty. Concurrent "
        "users take a seat when they log in.",
    ),
)
EXAMPLE_ROWS = [
    line.split(",")
    for line in (
        "ann.agent,ann@example.com,Ann,Agent,CIC-01,Northwind,agent,assigned,yes",
        "sam.lead,sam@example.com,Sam,Lead,,Northwind,supervisor,concurrent,",
    )
]


def _quoted(value: str, limit: int = 40) -> str:
    return f"“{value if len(value) <= limit else value[: limit - 1] + '…'}”"


def _listed(values) -> str:
    return ", ".join(_quoted(v) for v in values)


def _header_name(header) -> str:
    """ "First name", " Email " → first_name, email."""
    return str(header or "").strip().lower().replace(" ", "_").replace("-", "_")


class PreviewDiff(resources.Diff):
    """The preview's cells as text, a changed value as <del>old</del> <ins>new</ins> (coloured
    by import-export's import.css). The library's own diff HTML carries inline styles, which the
    Content-Security-Policy refuses."""

    def as_html(self):
        cells = []
        for old, new in zip(self.left, self.right, strict=True):
            if self.new or old == new:
                cells.append(format_html("{}", new))
            else:
                cells.append(
                    format_html(
                        "{}{}{}",
                        format_html("<del>{}</del>", old) if old else "",
                        " " if old and new else "",
                        format_html("<ins>{}</ins>", new) if new else "",
                    )
                )
        return cells


class UserImportResource(resources.ModelResource):
    # Read-only: written by after_save_instance; the preview shows the values import_instance
    # resolved (``_import_preview``).
    server = fields.Field("_import_preview__server", column_name="server", readonly=True)
    organization = fields.Field(
        "_import_preview__organization", column_name="organization", readonly=True
    )
    role = fields.Field("_import_preview__role", column_name="role", readonly=True)
    method = fields.Field("_import_preview__method", column_name="method", readonly=True)
    seat = fields.Field("_import_preview__seat", column_name="seat", readonly=True)

    columns = COLUMNS

    class Meta:
        model = User
        fields = [column.name for column in COLUMNS]
        import_id_fields = ["username"]
        skip_unchanged = False
        report_skipped = False  # blank lines
        use_transactions = True
        clean_model_instances = True

    def get_diff_class(self):
        return PreviewDiff

    @classmethod
    def import_template(cls) -> str:
        """The template to download: the header row and example rows, with a byte order mark
        so that Excel reads it as UTF-8."""
        dataset = tablib.Dataset(*EXAMPLE_ROWS, headers=[c.name for c in COLUMNS])
        return "\ufeff" + dataset.export("csv")

    @staticmethod
    def header_problems(dataset) -> list[str]:
        """What is wrong with the file's header row; when nothing, its names are normalized
        in place ("First name" → first_name)."""
        found = [str(h or "").strip() for h in dataset.headers or []]
        names = [_header_name(h) for h in found]
        known = [c.name for c in COLUMNS]
        problems = []
        missing = [c.name for c in COLUMNS if c.required and c.name not in names]
        if missing:
            problem = (
                f"Line 1 (the header row): {' and '.join(missing)} "
                f"{'is a required column' if len(missing) == 1 else 'are required columns'}, "
                f"missing from this file. Its header row has {len(found)} "
                f"column{'s' if len(found) != 1 else ''}: {_listed(found)}."
            )
            glued = len(found) == 1 and names[0] not in known  # another delimiter, or none
            if glued:
                problem += " Columns must be separated by commas, semicolons or tabs."
            problems.append(problem)
        unknown = [f for f, name in zip(found, names, strict=True) if name not in known]
        if unknown and not (missing and glued):
            problems.append(
                f"Line 1 (the header row): {_listed(unknown)} "
                f"{'is not a column' if len(unknown) == 1 else 'are not columns'} of this "
                f"import: rename or remove {'it' if len(unknown) == 1 else 'them'}. "
                f"The columns are {', '.join(known)}."
            )
        for name in dict.fromkeys(n for n in names if n in known and names.count(n) > 1):
            problems.append(
                f"Line 1 (the header row): the column {name} appears {names.count(name)} times: "
                "keep one."
            )
        if not problems:
            dataset.headers = names
        return problems

    def import_data(self, dataset, **kwargs):
        problems = self.header_problems(dataset)
        if problems:  # no row can be read: refuse the file before any row is tried
            result = self.get_result_class()()
            result.diff_headers = self.get_diff_headers()
            result.total_rows = len(dataset)
            for problem in problems:
                result.append_base_error(self.get_error_result_class()(ImportFileError(problem)))
            return result
        kwargs["rollback_on_validation_errors"] = True  # one refused row: nothing is written
        result = super().import_data(dataset, **kwargs)
        result.file_headers = list(dataset.headers)  # the refused rows' values, in file order
        return result

    def before_import(self, dataset, **kwargs):
        self._organizations_named = {}
        self._line_of_username = {}

    def import_row(self, row, instance_loader, **kwargs):
        if not any(str(value or "").strip() for value in row.values()):
            result = self.get_row_result_class()()
            result.import_type = RowResult.IMPORT_TYPE_SKIP  # a blank line
            return result
        return super().import_row(row, instance_loader, **kwargs)

    def _organizations(self, server_id: str, name: str) -> list[Organization]:
        """The organizations a row's name (and server, when given) matches, looked up once per
        file (rows of one organization share it)."""
        cache = self._organizations_named
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
        new = instance.pk is None
        if new:
            instance.set_unusable_password()  # imported users set their password through a reset
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        value = lambda name: str(row.get(name) or "").strip()  # noqa: E731
        username, line = value("username"), kwargs.get("row_number", 0) + 1
        first_line = self._line_of_username.setdefault(username, line)
        if username and first_line != line:
            errors["username"] = [
                f"{_quoted(username)} is also on line {first_line}: list each user once."
            ]
        server_id, org_name = value("server"), value("organization")
        organization = None
        if not org_name:
            errors["organization"] = ["Required: the organization the user belongs to."]
        else:
            matches = self._organizations(server_id, org_name)
            if not matches:
                where = f" on server {server_id[:40]}" if server_id else ""
                errors["organization"] = [
                    f"No organization named {_quoted(org_name)}{where}. Correct the name "
                    "(or the server), or create the organization first."
                ]
            elif len(matches) > 1:
                servers = ", ".join(o.server.server_id for o in matches)
                errors["organization"] = [
                    f"{_quoted(org_name)} is an organization on more than one server ({servers}): "
                    "name the server in a “server” column."
                ]
            else:
                organization = matches[0]
        role = value("role").lower()
        if not role:
            kept = None
            if organization is not None and not new:
                kept = (
                    Membership.objects.filter(user=instance, organization=organization)
                    .values_list("role", flat=True)
                    .first()
                )
            role = kept or Membership.Role.AGENT
        elif role not in Membership.Role.values:
            errors["role"] = [f"{_quoted(role)} is not a role: use agent, supervisor or org_admin."]
        method = value("method").lower() or (
            User.LicenseMethod.ASSIGNED if new else instance.license_method
        )
        if method not in User.LicenseMethod.values:
            errors["method"] = [
                f"{_quoted(method)} is not a license method: use assigned or concurrent."
            ]
        seat = value("seat").lower()
        if seat not in YES | NO:
            errors["seat"] = [f"{_quoted(seat)} is not yes or empty."]
        elif seat in YES and method == User.LicenseMethod.CONCURRENT:
            errors["seat"] = ["Concurrent users take a seat when they log in: leave “seat” empty."]
        instance._import = {
            "organization": organization,
            "role": role,
            "method": method,
            "seat": seat in YES,
        }
        instance._import_preview = {
            "server": organization.server.server_id if organization else server_id,
            "organization": organization.name if organization else org_name,
            "role": role,
            "method": method,
            "seat": "yes" if seat in YES else "",
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
