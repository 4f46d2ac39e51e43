"""Query expressions the apps above share."""

from django.db.models import IntegerField, Subquery


class SubqueryCount(Subquery):
    """``COUNT(*)`` of a queryset correlated to the outer row (``OuterRef``).

    PostgreSQL evaluates such a column for each row the outer query returns, after its ORDER BY
    ... LIMIT, from the inner table's index: a change list counts for its page's rows only, and
    a count per server reads an index-only range, where ``Count()`` over a join or a GROUP BY
    reads every row of the counted table first."""

    template = "(SELECT count(*) FROM (%(subquery)s) _count)"
    output_field = IntegerField()

    def __init__(self, queryset, **extra):
        super().__init__(queryset.order_by().values("pk"), **extra)
