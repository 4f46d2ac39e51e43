"""An administrator imports users from a CSV file in headless Chromium: the import page explains
the columns and offers the template, a file missing a column is refused saying which, and a
semicolon-separated Windows-1252 file (what Excel writes in many European locales) is previewed
with every column and imported, all under the Content-Security-Policy."""

import pytest

from organizations.models import Membership, User
from tests.factories import OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests/factories.py
HEADER = "username;email;first_name;last_name;server;organization;role;method;seat"


@pytest.fixture
def world(licensed_server):
    server = licensed_server(server_id="CIC-IMPORT-01")
    OrganizationFactory(server=server, name="Northwind Outsourcing")
    UserFactory(username="root", is_staff=True, is_superuser=True)


def csv_file(text, encoding="cp1252"):
    return {"name": "users.csv", "mimeType": "text/csv", "buffer": text.encode(encoding)}


def test_an_administrator_imports_users_from_an_excel_csv_file(world, open_browser, screenshot):
    page = open_browser(viewport=(1400, 900))
    page.goto("/admin/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state()
    page.goto("/admin/organizations/user/")
    page.click("a.import_link")
    page.wait_for_url("**/admin/organizations/user/import/")

    help_ = page.locator("#import-help")
    assert help_.is_visible()
    assert help_.locator("tbody tr").count() == 9
    assert "agent, supervisor or org_admin" in help_.inner_text()
    with page.expect_download() as download:
        page.click("#import-template-link")
    template = download.value.path().read_text(encoding="utf-8-sig")
    assert template.splitlines()[0] == HEADER.replace(";", ",")
    screenshot(page, "admin-user-import")

    # A file without the organization column is refused, saying which columns it has.
    page.set_input_files(
        "input[name=import_file]", csv_file("username;email\r\nzoe;zoe@example.com\r\n")
    )
    page.click("#content form [type=submit]")
    errors = page.locator("#import-errors")
    assert "organization is a required column, missing from this file" in errors.inner_text()
    assert "Its header row has 2 columns: “username”, “email”." in errors.inner_text()
    assert page.locator("[name=confirm]").count() == 0

    # A line refused: the table names its line and field; nothing is offered to confirm.
    page.set_input_files(
        "input[name=import_file]",
        csv_file(
            f"{HEADER}\r\nzoe;zoe@example;Zoë;Müller;;Northwind Outsourcing;boss;assigned;\r\n"
        ),
    )
    page.click("#content form [type=submit]")
    refused = page.locator("#import-refused")
    assert refused.locator("tbody td").first.inner_text() == "2"
    assert "email: Enter a valid email address." in refused.inner_text()
    assert "role: “boss” is not a role" in refused.inner_text()
    screenshot(page, "admin-user-import-refused")
    assert not User.objects.filter(username="zoe").exists()

    # Semicolons and Windows-1252, as Excel saves "CSV" in a German locale.
    page.set_input_files(
        "input[name=import_file]",
        csv_file(
            f"{HEADER}\r\n"
            "zoe;zoe@example.com;Zoë;Müller;;Northwind Outsourcing;supervisor;assigned;yes\r\n"
            "jose;jose@example.com;José;Núñez, Jr.;CIC-IMPORT-01;Northwind Outsourcing;;"
            "concurrent;\r\n"
        ),
    )
    page.click("#content form [type=submit]")
    preview = page.locator("table.import-preview")
    preview.locator("tr.new").first.wait_for()  # .all() below does not wait for the page
    cells = [
        [cell.inner_text().strip() for cell in row.locator("td").all()]
        for row in preview.locator("tr.new").all()
    ]
    assert cells == [
        ["New", *"zoe|zoe@example.com|Zoë|Müller|CIC-IMPORT-01|Northwind Outsourcing|supervisor|assigned|yes".split("|")],  # noqa: E501
        ["New", *"jose|jose@example.com|José|Núñez, Jr.|CIC-IMPORT-01|Northwind Outsourcing|agent|concurrent|".split("|")],  # noqa: E501
    ]  # fmt: skip
    screenshot(page, "admin-user-import-preview")

    page.click("[name=confirm]")
    page.wait_for_load_state()
    assert page.url.endswith("/admin/organizations/user/")
    assert "Import finished: 2 new, 0 updated" in page.locator(".messagelist").inner_text()
    zoe = User.objects.get(username="zoe")
    assert (zoe.first_name, zoe.last_name) == ("Zoë", "Müller")
    assert Membership.objects.get(user=zoe).role == "supervisor"
    assert not zoe.has_usable_password()
