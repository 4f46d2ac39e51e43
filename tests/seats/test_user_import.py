"""The admin's CSV import of users, driven through the real admin views (upload, preview,
confirm): files as spreadsheets write them (comma, semicolon or tab; UTF-8 with or without a
byte order mark, UTF-16, Windows-1252), every column in the preview, and every problem a message
naming its line and field, never a traceback, with nothing written."""

import html
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from organizations.models import Membership, User
from seats.formats import SniffedCSV
from seats.models import SeatAssignment
from seats.resources import COLUMNS
from seats.services.assignments import seat_assign

from .seat_helpers import member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db

IMPORT = "/admin/organizations/user/import/"
CONFIRM = "/admin/organizations/user/process_import/"
TEMPLATE = "/admin/organizations/user/import/template/"
HEADER = "username|email|first_name|last_name|server|organization|role|method|seat".split("|")
ZOE = "zoe|zoe@example.com|Zoë|Müller|CIC-SEATS|Northwind|supervisor|assigned|yes".split("|")
JOSE = "jose|jose@example.com|José|Núñez, Jr.||Northwind||concurrent|".split("|")
# An empty role is a new member's default; the server is the organization's.
JOSE_PREVIEWED = (
    "jose|jose@example.com|José|Núñez, Jr.|CIC-SEATS|Northwind|agent|concurrent|".split("|")
)


@pytest.fixture
def org(licensed_server):
    return setup_server(
        licensed_server, ["agent:assignable=2", "supervisor:assignable=2", "agent:concurrent=5"]
    )


def csv_bytes(rows, delimiter=",", encoding="utf-8", newline="\r\n"):
    """A file as a spreadsheet writes it; a value holding the delimiter is quoted."""

    def cell(value):
        return f'"{value}"' if delimiter in value or "," in value else value

    text = "".join(delimiter.join(cell(v) for v in row) + newline for row in rows)
    return text.encode(encoding)


def upload(client, data, name="users.csv"):
    file = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(IMPORT, {"import_file": file, "format": "0", "resource": "0"})


def confirm(client, preview):
    return client.post(CONFIRM, dict(preview.context["confirm_form"].initial), follow=True)


def text_of(fragment):
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def preview_rows(response):
    """The preview table's rows as the administrator reads them: the import type, then each
    column's text."""
    table = re.search(
        r'<table class="import-preview">(.*?)</table>', response.content.decode(), re.S
    )
    rows = re.findall(r"<tr class=\"\w+\">(.*?)</tr>", table.group(1), re.S)
    return [[text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]


def page_text(response):
    return text_of(response.content.decode())


def problems(response):
    """Every refusal the import page shows: the form's, the file's and each refused row's
    (line, field, message), as the page and its context say."""
    context = response.context
    found = (
        [str(e) for e in context["form"].errors.get("import_file", [])] if "form" in context else []
    )
    result = context.get("result")
    if result is not None:
        found += [str(e.error) for e in result.base_errors]
        found += [
            f"line {row.number + 1}, {field}: {message}"
            for row in result.invalid_rows
            for field, messages in row.field_specific_errors.items()
            for message in messages
        ]
    return found


def assert_refused_and_nothing_written(response, before):
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    page = response.content.decode()
    assert "Traceback" not in page and "site-packages" not in page
    assert User.objects.count() == before
    assert SeatAssignment.objects.count() == 0


ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16"]
DELIMITERS = [",", ";", "\t"]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("delimiter", DELIMITERS, ids=["comma", "semicolon", "tab"])
def test_a_file_in_any_of_the_encodings_and_delimiters_spreadsheets_write_is_previewed_and_imported(
    admin_client, org, encoding, delimiter
):
    server, organization = org
    data = csv_bytes([HEADER, ZOE, JOSE], delimiter=delimiter, encoding=encoding)

    preview = upload(admin_client, data)

    assert preview.status_code == 200 and problems(preview) == []
    assert "confirm_form" in preview.context
    assert preview_rows(preview) == [
        ["New", *ZOE],
        ["New", *JOSE_PREVIEWED],
    ]
    assert not User.objects.filter(username="zoe").exists()  # a preview writes nothing

    done = confirm(admin_client, preview)

    assert done.redirect_chain[-1][0] == "/admin/organizations/user/"
    assert "Import finished: 2 new, 0 updated, 0 deleted and 0 skipped users." in page_text(done)
    zoe, jose = User.objects.get(username="zoe"), User.objects.get(username="jose")
    assert (zoe.first_name, zoe.last_name, zoe.license_method) == ("Zoë", "Müller", "assigned")
    assert (jose.first_name, jose.last_name) == ("José", "Núñez, Jr.")
    assert jose.license_method == "concurrent"
    assert Membership.objects.get(user=zoe, organization=organization).role == "supervisor"
    assert Membership.objects.get(user=jose, organization=organization).role == "agent"
    assert list(SeatAssignment.objects.active().values_list("user__username", "license_type")) == [
        ("zoe", "supervisor")
    ]
    # New users can log in only once they set a password (the invitation's job).
    assert not zoe.has_usable_password() and not jose.has_usable_password()
    assert LogEntry.objects.filter(object_repr__in=["zoe", "jose"]).count() == 2


def test_a_semicolon_file_whose_every_line_holds_a_comma_is_read_by_its_semicolons():
    data = "username;last_name;organization\r\nann;Doe, Ann;Northwind\r\nbob;Doe, Bob;Northwind\r\n"
    dataset = SniffedCSV().create_dataset(data.encode("cp1252"))
    assert dataset.headers == ["username", "last_name", "organization"]
    assert dataset[1] == ("bob", "Doe, Bob", "Northwind")


def test_the_template_downloads_with_the_header_and_example_rows_and_the_page_explains_it(
    admin_client, org
):
    response = admin_client.get(TEMPLATE)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="user-import-template.csv"'
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")  # so that Excel reads UTF-8
    lines = body.lstrip("\ufeff").splitlines()
    assert lines[0] == ",".join(HEADER)
    assert lines[1:] == [
        "ann.agent,ann@example.com,Ann,Agent,CIC-01,Northwind,agent,assigned,yes",
        "sam.lead,sam@example.com,Sam,Lead,,Northwind,supervisor,concurrent,",
    ]

    page = admin_client.get(IMPORT)
    content = page.content.decode()
    assert f'href="{TEMPLATE}"' in content and "Download the template" in content
    text = page_text(page)
    for column in COLUMNS:
        assert f"<code>{column.name}</code>" in content
        assert html.unescape(column.meaning) in text
    assert "agent, supervisor or org_admin" in text and "assigned or concurrent" in text


def test_the_template_as_downloaded_reads_and_only_its_example_organization_is_refused(
    admin_client, org
):
    template = admin_client.get(TEMPLATE).content
    response = upload(admin_client, template)
    assert problems(response) == [
        "line 2, organization: No organization named “Northwind” on server CIC-01. Correct the "
        "name (or the server), or create the organization first."
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "The file is empty", id="empty"),
        pytest.param(b"\xef\xbb\xbf \r\n\r\n", "The file is empty", id="only-a-bom-and-blanks"),
        pytest.param(
            ",".join(HEADER).encode() + b"\r\n",
            "The file has only its header row (line 1): add a line per user below it.",
            id="header-only",
        ),
        pytest.param(
            b"PK\x03\x04\x14\x00\x06\x00",
            "This is not a CSV file: it looks like an Excel workbook (.xlsx)",
            id="xlsx",
        ),
        pytest.param(
            b"%PDF-1.7\n", "This is not a CSV file: it looks like a PDF document", id="pdf"
        ),
        pytest.param(
            b"username,organization\r\nzoe,North\x00wind\r\n",
            "Line 2: this is not a text file (it contains a NUL byte).",
            id="binary",
        ),
        pytest.param(
            b"username,organization\r\nann,Northwind\r\nzo\x81,Northwind\r\n",
            "Line 3: the byte 0x81 is neither UTF-8 nor Windows-1252, so the file's characters "
            "cannot be read.",
            id="unreadable-encoding",
        ),
        pytest.param(
            b"username,organization,last_name\r\nzoe,Northwind,M\xfcller,Hans\r\n",
            "Line 2: 4 values, but the header row (line 1) names 3 columns. A value that "
            "contains a comma must be in double quotes.",
            id="unquoted-delimiter",
        ),
        pytest.param(
            b'username,organization\r\nzoe,"Northwind\r\nann,Northwind\r\n',
            "Line 2: this line is not valid CSV (unexpected end of data).",
            id="unclosed-quote",
        ),
        pytest.param(
            b"username,organization\r\n" + b"u,Northwind\r\n" * 1001,
            "Line 1002: the file has 1,001 users, more than the 1,000 one import takes: split "
            "it into smaller files.",
            id="too-many-rows",
        ),
        pytest.param(
            b"username,organization\r\nzoe," + b"x" * 2 * 1024 * 1024 + b"\r\n",
            "The file has 2,097,181 bytes, more than the 2,097,152 one import takes",
            id="too-large",
        ),
        pytest.param(
            b"username,,organization\r\nzoe,x,Northwind\r\n",
            "Line 1 (the header row): column 2 has no name, but line 2 has a value in it.",
            id="nameless-column",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_on_the_form_saying_why(
    admin_client, org, data, message
):
    before = User.objects.count()
    response = upload(admin_client, data)
    assert_refused_and_nothing_written(response, before)
    assert any(message in problem for problem in problems(response)), problems(response)
    assert message in page_text(response)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "username|email|first_name|last_name|server|organization|role|method|seat\r\n"
            "zoe|zoe@example.com|Zoë|Müller||Northwind|||\r\n",
            "Line 1 (the header row): username and organization are required columns, missing "
            "from this file. Its header row has 1 column: "
            "“username|email|first_name|last_name|ser…”. "
            "Columns must be separated by commas, semicolons or tabs.",
            id="wrong-delimiter",
        ),
        pytest.param(
            "username;email;first_name\r\nzoe;zoe@example.com;Zoë\r\n",
            "Line 1 (the header row): organization is a required column, missing from this "
            "file. Its header row has 3 columns: “username”, “email”, “first_name”.",
            id="missing-column",
        ),
        pytest.param(
            "username,organization,phone,Department\r\nzoe,Northwind,555,Sales\r\n",
            "Line 1 (the header row): “phone”, “Department” are not columns of this import: "
            "rename or remove them. The columns are username, email, first_name, last_name, "
            "server, organization, role, method, seat.",
            id="unknown-columns",
        ),
        pytest.param(
            "username\torganization\temail\tEmail\r\nzoe\tNorthwind\tzoe@example.com\tz@x.org\r\n",
            "Line 1 (the header row): the column email appears 2 times: keep one.",
            id="duplicate-column",
        ),
    ],
)
def test_a_header_row_that_does_not_fit_is_refused_naming_the_columns_missing_and_found(
    admin_client, org, text, message
):
    before = User.objects.count()
    response = upload(admin_client, text.encode())
    assert_refused_and_nothing_written(response, before)
    assert problems(response) == [message]
    assert message in page_text(response)


def test_refused_rows_are_messages_naming_line_and_field_and_nothing_is_written(admin_client, org):
    server, organization = org
    long_name = "x" * 151
    rows = [
        HEADER,
        ["ann", "ann@example.com", "Ann", "A", "", "Northwind", "", "", ""],
        ["bob", "not-an-address", "Bob", "B", "", "Northwind", "", "", ""],
        ["ann", "ann2@example.com", "Ann", "Again", "", "Northwind", "", "", ""],
        [long_name, "", "", "", "", "Northwind", "", "", ""],
        ["cat", "", long_name, "", "", "Northwind", "", "", ""],
        ["dan", "", "", "", "", "", "boss", "sometimes", "maybe"],
        ["", "", "", "", "", "", "", "", ""],  # a blank line is skipped
        ["eve", "", "", "", "CIC-NONE", "Northwind", "", "", ""],
        ["bad name!", "", "", "", "", "Northwind", "", "", ""],
    ]
    response = upload(admin_client, csv_bytes(rows, delimiter=";"))

    assert_refused_and_nothing_written(response, before=1)  # the administrator
    assert problems(response) == [
        "line 3, email: Enter a valid email address.",
        "line 4, username: “ann” is also on line 2: list each user once.",
        "line 5, username: Ensure this value has at most 150 characters (it has 151).",
        "line 6, first_name: Ensure this value has at most 150 characters (it has 151).",
        "line 7, organization: Required: the organization the user belongs to.",
        "line 7, role: “boss” is not a role: use agent, supervisor or org_admin.",
        "line 7, method: “sometimes” is not a license method: use assigned or concurrent.",
        "line 7, seat: “maybe” is not yes or empty.",
        "line 9, organization: No organization named “Northwind” on server CIC-NONE. Correct "
        "the name (or the server), or create the organization first.",
        "line 10, username: Enter a valid username. This value may contain only letters, "
        "numbers, and @/./+/-/_ characters.",
    ]
    page = page_text(response)
    assert "Some lines were refused" in page and "Nothing was imported." in page
    assert "“ann” is also on line 2: list each user once." in page
    assert Membership.objects.count() == 0 and pool_in_use(server, "agent", "assignable") == 0


def test_header_names_are_read_as_people_write_them_and_blank_lines_are_skipped(admin_client, org):
    data = (
        "Username;E-mail;First Name;Organization\r\n"
        "zoe;zoe@example.com;Zoë;Northwind\r\n"
        ";;;\r\n"
        "\r\n"
    ).encode("cp1252")
    response = upload(admin_client, data)
    assert problems(response) == [
        "Line 1 (the header row): “E-mail” is not a column of this import: rename or remove it. "
        "The columns are username, email, first_name, last_name, server, organization, role, "
        "method, seat."
    ]
    response = upload(admin_client, data.replace(b"E-mail", b" Email "))
    assert problems(response) == []
    done = confirm(admin_client, response)
    assert "Import finished: 1 new, 0 updated, 0 deleted and 2 skipped users." in page_text(done)
    assert User.objects.get(username="zoe").first_name == "Zoë"


def test_an_existing_user_keeps_role_method_and_password_where_the_file_leaves_them_empty(
    admin_client, org
):
    server, organization = org
    bob = member(organization, "bob", role=Membership.Role.SUPERVISOR, method="concurrent")
    assert bob.has_usable_password()
    rows = [HEADER, ["bob", "bob@example.com", "Bob", "New", "", "Northwind", "", "", ""]]

    preview = upload(admin_client, csv_bytes(rows))

    assert preview_rows(preview) == [
        # first_name and last_name change; server to method are as they were.
        [
            "Update",
            *"bob|bob@example.com|Bob|New|CIC-SEATS|Northwind|supervisor|concurrent|".split("|"),
        ],
    ]
    done = confirm(admin_client, preview)
    assert "Import finished: 0 new, 1 updated" in page_text(done)
    bob.refresh_from_db()
    assert (bob.last_name, bob.license_method) == ("New", "concurrent")
    assert Membership.objects.get(user=bob).role == "supervisor"
    assert bob.has_usable_password()


def test_a_confirm_refused_after_the_preview_writes_nothing_and_says_why(admin_client, org):
    server, organization = org
    rows = [
        HEADER,
        ["ann", "", "", "", "", "Northwind", "agent", "assigned", "yes"],
        ["ben", "", "", "", "", "Northwind", "agent", "assigned", "yes"],
    ]
    preview = upload(admin_client, csv_bytes(rows))
    assert "confirm_form" in preview.context
    # Between the preview and the confirm, someone else takes the last Agent seat.
    seat_assign(user=member(organization, "zed", method="assigned"))

    done = confirm(admin_client, preview)

    assert done.redirect_chain[-1][0] == IMPORT
    messages = [str(m) for m in done.context["messages"]]
    assert messages == [
        "Nothing was imported. Correct the file and upload it again.",
        "Line 3, seat: No Agent access (IWP_Agent) Assignable seat is free on server "
        "CIC-SEATS: 2 of 2 in use. Nothing was assigned.",
    ]
    assert not User.objects.filter(username__in=["ann", "ben"]).exists()
    assert pool_in_use(server, "agent", "assignable") == 1
    assert not LogEntry.objects.filter(object_repr__in=["ann", "ben"]).exists()


def test_confirming_twice_imports_once_and_then_says_the_file_is_gone(admin_client, org):
    rows = [HEADER, ["ann", "", "", "", "", "Northwind", "", "", ""]]
    preview = upload(admin_client, csv_bytes(rows))
    confirm(admin_client, preview)

    again = confirm(admin_client, preview)

    assert again.redirect_chain[-1][0] == IMPORT
    assert [str(m) for m in again.context["messages"]] == [
        "Nothing was imported: the uploaded file is no longer on the server (it may have been "
        "imported already). Upload it again."
    ]
    assert User.objects.filter(username="ann").count() == 1
