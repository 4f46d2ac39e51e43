"""The base classes every model admin of the project uses, and what keeps their change lists
fast at a million rows: estimated counts and searches the indexes answer."""

from functools import cached_property
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.utils import lookup_spawns_duplicates
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.text import smart_split, unescape_string_literal
from pghistory.models import Event

from .exceptions import LicenseLimitReached, LicenseMissing


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to ``exact_below`` rows; beyond that, PostgreSQL's estimate: the table's
    statistics (``pg_class.reltuples``) for a whole table, the planner's for a filtered list.

    An exact ``COUNT(*)`` reads every row it counts, and at a million rows that costs more than
    the page of 100 it is for. ``is_estimate`` says which it is; the admin's templates then read
    "about 1,000,000"."""

    exact_below = 10_000
    is_estimate = False

    @cached_property
    def count(self):
        queryset = self.object_list
        estimate = self._estimate(queryset)
        if estimate is None or estimate < self.exact_below:
            return queryset.count()
        self.is_estimate = True
        return estimate

    @staticmethod
    def _estimate(queryset):
        query = queryset.query
        if not query.where and not query.distinct and not query.combinator:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            # -1: the table was never analyzed, nothing to estimate from.
            return row[0] if row and row[0] >= 0 else None
        try:
            sql, params = queryset.order_by().query.sql_with_params()
        except EmptyResultSet:  # e.g. a search that matched nothing: pk IN ()
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchall()
            # Inside a request the audit trail's context statement runs first, in the same
            # round trip (pghistory); the plan is the last result.
            while cursor.nextset():
                plan = cursor.fetchall()
        return int(plan[0][0][0]["Plan"]["Plan Rows"])  # psycopg decodes the JSON


class IndexedSearchMixin:
    """The admin's search, answered by indexes at any size.

    Django searches ``user__username`` as one ``WHERE`` across a join: ``UPPER(user.username)
    LIKE ... OR UPPER(organization.name) LIKE ...``, which no index answers, so every search read
    every seat. Here each field across a foreign key is looked up in its own table first (the
    trigram indexes of organizations' models) and matched on the key column: ``user_id IN (...)
    OR organization_id IN (...)``, which the key's index answers.

    Then the rows found, when they are few, are the list: ``pk IN (...)``. Given the search
    itself with its ORDER BY ... LIMIT, PostgreSQL guesses how many rows a ``LIKE '%term%'``
    matches and may walk the whole table in the list's order to find a page of them (2 s for one
    user among a million). When a term matches more than ``search_ids_max`` rows that walk is
    what finds a page quickly, and the search is kept as it is."""

    search_ids_max = 1000
    _search_lookups = {"^": "istartswith", "=": "iexact", "@": "search"}

    def get_search_results(self, request, queryset, search_term):
        search_fields = self.get_search_fields(request)
        if not search_fields or not search_term:
            return super().get_search_results(request, queryset, search_term)
        fields = [self._search_field(str(f)) for f in search_fields]
        terms = []
        for bit in smart_split(search_term):
            if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
                bit = unescape_string_literal(bit)
            terms.append(Q.create([self._search_q(f, bit) for f in fields], connector=Q.OR))
        found = queryset.filter(Q.create(terms))
        ids = self._few(found)
        if ids is not None:
            return queryset.filter(pk__in=ids), False
        may_have_duplicates = any(
            lookup_spawns_duplicates(self.opts, f"{path}__{lookup}")
            for fk, path, lookup in fields
            if fk is None
        )
        return found, may_have_duplicates

    def _few(self, queryset):
        """The primary keys of ``queryset``, or None when there are more than search_ids_max."""
        ids = list(queryset.order_by().values_list("pk", flat=True)[: self.search_ids_max + 1])
        return None if len(ids) > self.search_ids_max else ids

    def _search_field(self, name):
        """(the foreign key the field is reached through or None, the path, the lookup)."""
        lookup = self._search_lookups.get(name[0], "icontains")
        path = name.lstrip("^=@")
        first, _, rest = path.partition("__")
        try:
            field = self.opts.get_field(first)
        except FieldDoesNotExist:
            return None, path, lookup
        if rest and field.concrete and (field.many_to_one or field.one_to_one):
            return field, rest, lookup
        return None, path, lookup

    def _search_q(self, field, bit):
        fk, path, lookup = field
        if fk is None:
            return Q(**{f"{path}__{lookup}": bit})
        matches = fk.related_model._default_manager.filter(**{f"{path}__{lookup}": bit})
        ids = self._few(matches)
        if ids is None:
            return Q(**{f"{fk.name}__in": matches.order_by().values("pk")})
        return Q(**{f"{fk.attname}__in": ids})


def is_tracked(model) -> bool:
    """The audit trail's triggers record this model's changes (``@pghistory.track``)."""
    return any(
        getattr(related.related_model, "pgh_tracked_model", None) is model
        and issubclass(related.related_model, Event)
        for related in model._meta.related_objects
    )


class ScaledChangeList(ChangeList):
    def _get_deterministic_ordering(self, ordering):
        # Django breaks ties with "-pk" whichever way the column is sorted; following the
        # column's direction lets one (column, id) index serve both (sorting 700,000 seats
        # assigned at the same instant oldest first took 1.4 s, with "-pk").
        ordering = super()._get_deterministic_ordering(ordering)
        if len(ordering) == 2 and ordering[1] == "-pk" and isinstance(ordering[0], str):
            if not ordering[0].startswith("-"):
                ordering[1] = "pk"
        return ordering


class ScaledModelAdmin(IndexedSearchMixin, admin.ModelAdmin):
    """A model admin whose change list answers in the same few queries and about the same time at
    a million rows as at ten: estimated counts, indexed search, no facet counts (each facet is a
    count of the whole table). List pages still declare ``list_select_related`` for what they
    show, and order (``sortable_by``) by indexed columns."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False  # a second count, of the unfiltered table
    show_facets = admin.ShowFacets.NEVER

    def get_changelist(self, request, **kwargs):
        return ScaledChangeList


class AuditedModelAdmin(ScaledModelAdmin):
    """A model admin whose "History" button shows the audit trail of the object: every change,
    whoever or whatever made it, with who, when, from where, before and after.

    A refusal from a service (a license used up or missing) raised while saving becomes an error
    message on the same page; the admin's transaction rolls back, so nothing is changed.
    """

    def history_view(self, request, object_id, extra_context=None):
        if not is_tracked(self.model):
            return super().history_view(request, object_id, extra_context)
        if self.get_object(request, object_id) is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        query = urlencode(
            {
                "obj": f"{self.opts.label}:{object_id}",
                "method": "tracks",  # the object's own changes
                "back": reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[object_id]
                ),
            }
        )
        return HttpResponseRedirect(
            reverse("admin:pghistory_middlewareevents_changelist") + "?" + query
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (LicenseLimitReached, LicenseMissing) as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyModelAdmin(AuditedModelAdmin):
    """History and records that come from signed files or from the system:
    viewable, never edited."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
