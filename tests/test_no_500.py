"""No input answers 500: every portal, admin and account URL, with a huge, a negative, an overlong
and a NUL-containing value in each of its path parameters and in the query parameters its page
reads. A refusal (400), a 404, or the input ignored (200, 302, 403, 405) are all fine."""

import logging
import re
from urllib.parse import quote, urlencode

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteMixin
from django.contrib.contenttypes.models import ContentType
from django.forms import SplitDateTimeWidget
from django.test import Client
from django.urls import URLResolver, get_resolver

from organizations.models import User
from portal.models import ReportRun, ScheduledReport
from seats.models import SeatLease
from tests.factories import StationFactory
from tests.portal.conftest import make_member, org  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

GUARD = "iwp_licensing.input_guard.InputGuardMiddleware"

BAD_VALUES = {
    "huge": str(10**20),
    "negative": "-1",
    "overlong": "x" * 5000,
    "nul": "a\x00b",
}

# The query parameters each portal page reads (portal/views.py), by URL name.
PORTAL_PARAMS = {
    "holders": ["q", "view", "show", "page"],
    "history": ["days"],
    "history_csv": ["days"],
    "compliance": ["page"],
    "reports": ["page"],
    "manage_users": ["q", "show", "page"],
    "manage_stations": ["q", "page"],
    "manage_sessions": ["q", "page"],
    "manage_user_unassign": ["back"],
    "manage_user_remove": ["back"],
    "manage_station_release": ["license_type"],
}
# The fields the organization administrator's forms read, by URL name.
PORTAL_FORMS = {
    "reports": ["name", "frequency", "recipients", "is_active"],
    "report_edit": ["name", "frequency", "recipients", "is_active"],
    "manage_invite": ["username", "email", "first_name", "last_name", "role", "license_method"],
    "manage_user_method": ["method", "back"],
    "manage_user_role": ["role", "back"],
    "manage_station_add": ["name"],
    "manage_station_assign": ["license_type"],
    "manage_station_release": ["license_type"],
}
ALL_PORTAL_PARAMS = sorted({p for params in PORTAL_PARAMS.values() for p in params})
# What admin pages read besides their filters and form fields.
ADMIN_PARAMS = ["q", "p", "o", "e", "_popup", "_to_field", "_changelist_filters", "next"]
ADMIN_PARAMS += ["term", "app_label", "model_name", "field_name", "server"]
ACCOUNT_PARAMS = ["next"]
# pghistory's audit-trail filter passes its value to apps.get_model() unread: any value that is
# no "app_label.Model" is a 500 in pghistory, not here.
UPSTREAM_UNREAD_FILTERS = {"event_model"}

_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _walk(resolver, prefix=""):
    """(route template, URL name) of every pattern below ``resolver``; parameters become
    ``{name}``."""
    for p in resolver.url_patterns:
        route = str(p.pattern).lstrip("^").rstrip("$")
        route = _PARAM.sub(lambda m: "{%s}" % (m.group(1) or m.group(2)), route)
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + route)
        else:
            yield prefix + route, p.name


def _fill(template: str, values: dict) -> str:
    return "/" + template.format_map({k: quote(str(v), safe="") for k, v in values.items()})


def _shown(url: str) -> str:
    return url.replace("x" * 5000, "x…(5000 x)")


class Sweep:
    """Requests URLs and remembers every one that answered 500."""

    def __init__(self, client: Client):
        self.client = client
        self.failures: list[str] = []
        self.count = 0

    def get(self, url: str, params: dict | None = None, *, post_if_refused: bool = False):
        if params:
            url = f"{url}?{urlencode(params)}"
        response = self.client.get(url)
        self.count += 1
        if response.status_code == 500:
            self.failures.append(f"GET {_shown(url)}")
        elif response.status_code == 405 and post_if_refused:
            # A POST-only view (an admin button) reads its path parameters on POST.
            self.count += 1
            if self.client.post(url).status_code == 500:
                self.failures.append(f"POST {_shown(url)}")
        return response

    def path_params(self, template: str, valid: dict):
        """One request per (path parameter, bad value), the other parameters valid."""
        post = "logout" not in template  # a POST there would end the sweep's session
        for name in re.findall(r"{(\w+)}", template):
            for bad in BAD_VALUES.values():
                self.get(_fill(template, {**valid, name: bad}), post_if_refused=post)

    def assert_no_500(self):
        assert not self.failures, (
            f"{len(self.failures)} of {self.count} requests answered 500:\n"
            + ("\n".join(self.failures))
        )


def _urls(prefix: str):
    return [(t, name) for t, name in _walk(get_resolver()) if t.startswith(prefix)]


@pytest.fixture(autouse=True)
def _quiet_refusal_logs():
    """Refusals are the expected outcome here: not worth a log record each (500s still log)."""
    levels = {"django.request": logging.ERROR, "django.security": logging.CRITICAL}
    loggers = {name: logging.getLogger(name) for name in levels}
    saved = {name: logger.level for name, logger in loggers.items()}
    for name, logger in loggers.items():
        logger.setLevel(levels[name])
    yield
    for name, logger in loggers.items():
        logger.setLevel(saved[name])


@pytest.fixture
def input_guard(settings):
    """The project's middleware with the NUL guard, whether or not settings.py lists it yet."""
    if GUARD not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(
            middleware.index("django.middleware.security.SecurityMiddleware") + 1, GUARD
        )
        settings.MIDDLEWARE = middleware


@pytest.fixture
def without_input_guard(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != GUARD]


@pytest.fixture
def portal_world(org, make_member):  # noqa: F811
    # An organization administrator: every portal page is theirs, the manage pages too.
    supervisor = make_member(org, role="org_admin")
    alice = make_member(org, role="agent", username="alice.agent")
    bob = make_member(org, role="agent", method="concurrent", username="bob.agent")
    station = StationFactory(organization=org, name="Desk 1")
    report = ScheduledReport.objects.create(
        organization=org, name="Weekly", recipients="a@example.com", created_by=supervisor
    )
    run = ReportRun.objects.create(
        report=report,
        period_start="2026-01-05",
        period_end="2026-01-11",
        filename="weekly.csv",
        content="day\n",
    )
    client = Client(raise_request_exception=False)
    client.force_login(supervisor)
    return client, {
        "org_id": org.pk,
        "report_id": report.pk,
        "run_id": run.pk,
        "user_id": alice.pk,
        "station_id": station.pk,
        "lease_id": SeatLease.objects.get(user=bob).pk,
    }


def _sweep_portal(client, valid):
    sweep = Sweep(client)
    urls = _urls("portal/")
    assert len(urls) >= 26
    for template, name in urls:
        sweep.path_params(template, valid)
        url = _fill(template, valid)
        params = PORTAL_PARAMS.get(name, [])
        for bad in BAD_VALUES.values():
            # Every parameter the portal reads, at once: a page that ignores them stays whole.
            sweep.get(url, dict.fromkeys(ALL_PORTAL_PARAMS, bad))
            if len(params) > 1:  # one at a time, so that one refused does not hide another
                for param in params:
                    sweep.get(url, {param: bad})
            if name == "holders":
                for view in ("stations", "sessions"):
                    sweep.get(url, {"view": view, "q": bad, "page": bad})
            if name in PORTAL_FORMS:
                form = dict.fromkeys(PORTAL_FORMS[name], bad)
                if client.post(url, form).status_code == 500:
                    sweep.failures.append(f"POST {url} with every field {_shown(bad)!r}")
    sweep.assert_no_500()
    return sweep


def test_no_portal_url_answers_500_to_bad_ids_or_parameters(without_input_guard, portal_world):
    """The portal does not rely on the input guard: an id beyond a bigint is a 404, a NUL in a
    search is dropped (with the guard it is a 400 before the view)."""
    client, valid = portal_world
    _sweep_portal(client, valid)
    assert client.get(f"/portal/org/{10**20}/").status_code == 404
    assert client.get(f"/portal/org/{2**63}/holders/").status_code == 404
    for view in ("users", "stations", "sessions"):
        response = client.get(
            f"/portal/org/{valid['org_id']}/holders/", {"q": "al\x00", "view": view}
        )
        assert response.status_code == 200, view
    response = client.get(f"/portal/org/{valid['org_id']}/holders/", {"q": "alice\x00"})
    assert "alice.agent" in response.text


@pytest.fixture
def superuser_client(db):
    user = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _is_changelist(response) -> bool:
    return bool(response.context) and isinstance(response.context.get("cl"), ChangeList)


def _changelist_params(response) -> list[str]:
    """The query parameters a change list reads: its filters' and its date hierarchy's."""
    if not _is_changelist(response):
        return []
    cl = response.context["cl"]
    params = [
        p
        for spec in cl.filter_specs
        for p in spec.expected_parameters()
        if p not in UPSTREAM_UNREAD_FILTERS
    ]
    if cl.date_hierarchy:
        params += [f"{cl.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return params


def _form_fields(response) -> list[str]:
    """An add page takes its fields' initial values from the query string.

    Left out: the fields Django's admin renders from the raw string without reading it first,
    so that any value it cannot use is a 500 whatever this project does (an autocomplete select
    queries the string as an id; a split date and time widget calls ``.date()`` on it).
    """
    adminform = response.context.get("adminform") if response.context else None
    if not adminform:
        return []
    names = []
    for name, field in adminform.form.fields.items():
        widget = getattr(field.widget, "widget", field.widget)  # inside RelatedFieldWidgetWrapper
        if not isinstance(widget, AutocompleteMixin | SplitDateTimeWidget):
            names.append(name)
    return names


def _autocomplete_params() -> list[dict]:
    """A valid context for the admin's autocomplete view, for each autocomplete field."""
    return [
        {
            "app_label": model._meta.app_label,
            "model_name": model._meta.model_name,
            "field_name": field,
        }
        for model, model_admin in admin.site._registry.items()
        for field in model_admin.autocomplete_fields
    ]


def test_no_admin_url_answers_500_to_bad_ids_or_parameters(
    input_guard, superuser_client, portal_world
):
    sweep = Sweep(superuser_client)
    urls = _urls("admin/")
    assert len(urls) >= 150
    valid = {
        "object_id": "1",
        "id": "1",
        "server_pk": "1",
        "content_type_id": ContentType.objects.get_for_model(User).pk,
        "app_label": "organizations",
        "url": "nothing-here/",
    }
    for template, _name in urls:
        sweep.path_params(template, valid)
        if re.search(r"{(object_id|id|server_pk|content_type_id)}", template):
            continue  # an object's pages: swept by their path parameters
        url = _fill(template, valid)
        base = sweep.get(url)
        own = _changelist_params(base) + _form_fields(base)
        for bad in BAD_VALUES.values():
            sweep.get(url, dict.fromkeys(ADMIN_PARAMS, bad))
            if own:  # its filters or form fields, apart from the generic ones that may refuse
                sweep.get(url, dict.fromkeys(own, bad))
            if _is_changelist(base):
                sweep.get(url, {"q": bad})  # the search alone
    contexts = _autocomplete_params()
    assert contexts
    for context in contexts:
        for bad in BAD_VALUES.values():
            sweep.get("/admin/autocomplete/", {**context, "term": bad})
    assert sweep.client.get("/admin/").status_code == 200  # still logged in: the sweep was real
    sweep.assert_no_500()


def test_no_account_url_answers_500_to_bad_ids_or_parameters(input_guard):
    sweep = Sweep(Client(raise_request_exception=False))
    valid = {"uidb64": "MQ", "token": "set-password"}
    for template, _name in _urls("accounts/"):
        sweep.path_params(template, valid)
        for bad in BAD_VALUES.values():
            sweep.get(_fill(template, valid), dict.fromkeys(ACCOUNT_PARAMS, bad))
    for bad in BAD_VALUES.values():
        if (
            sweep.client.post("/accounts/login/", {"username": bad, "password": bad}).status_code
            == 500
        ):
            sweep.failures.append(f"POST /accounts/login/ username={_shown(bad)!r}")
    sweep.assert_no_500()


def test_a_nul_anywhere_in_the_input_is_refused_with_400(input_guard, superuser_client):
    client = superuser_client
    nul = "a\x00b"
    for response in (
        client.get("/admin/organizations/organization/", {"q": nul}),
        client.get("/admin/organizations/user/", {nul: "1"}),
        client.get("/admin/a%00b/"),
        client.post(
            "/admin/compliance/compliancerecipient/add/", {"email": "a@example.com", "name": nul}
        ),
    ):
        assert response.status_code == 400
        assert response.text == "Bad request: the input contains a NUL character"
    assert client.get("/admin/organizations/organization/", {"q": "ab"}).status_code == 200


def test_a_number_too_large_for_a_date_is_refused_with_400(input_guard, superuser_client):
    response = superuser_client.get("/admin/compliance/complianceevent/", {"day__year": 10**20})
    assert response.status_code == 400
    assert response.text == "Bad request: a number in the input is too large"


def test_a_nul_in_a_cookie_is_refused_with_400(input_guard):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get("/accounts/login/")
    assert response.status_code == 400
