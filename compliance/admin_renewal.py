"""The admin's Renewal page, one per server: per counted license, the last 90 days' peak and
denials, the peak projected to its expiry and the count to buy (compliance/renewal.py), with a
CSV export. Listed under *Compliance audit › Renewal forecasts*; each server's page is also
linked from its change form."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from licenses.admin_base import ReadOnlyModelAdmin

from .models import ServerRenewal
from .renewal import HISTORY_DAYS, renewal_csv_rows, renewal_for_servers


@admin.register(ServerRenewal)
class ServerRenewalAdmin(ReadOnlyModelAdmin):
    list_display = ["server_id", "name", "renewal_link"]
    list_display_links = None
    search_fields = ["server_id", "name"]

    @admin.display(description=_("renewal"))
    def renewal_link(self, server):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:compliance_serverrenewal_renewal", args=[server.pk]),
            _("Renewal forecast"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:server_pk>/renewal/",
                view(self.renewal_view),
                name="compliance_serverrenewal_renewal",
            ),
            path(
                "<int:server_pk>/renewal.csv",
                view(self.renewal_csv_view),
                name="compliance_serverrenewal_renewal_csv",
            ),
        ] + super().get_urls()

    def _lines(self, request, server_pk):
        if not self.has_view_permission(request):
            raise Http404
        server = ServerRenewal.objects.filter(pk=server_pk).first()
        if server is None:
            raise Http404(f"No server with id {server_pk}.")
        return server, renewal_for_servers(servers=[server])[server.pk]

    def renewal_view(self, request, server_pk):
        server, lines = self._lines(request, server_pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Renewal forecast of %(server)s") % {"server": server.server_id},
            "opts": self.model._meta,
            "server": server,
            "lines": lines,
            "history_days": HISTORY_DAYS,
            "headroom": settings.IWP_RENEWAL_HEADROOM_PERCENT,
        }
        return TemplateResponse(request, "admin/compliance/serverrenewal/renewal.html", context)

    def renewal_csv_view(self, request, server_pk):
        server, lines = self._lines(request, server_pk)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"{server.server_id}-renewal-{timezone.localdate().isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.writer(response)
        for row in renewal_csv_rows(lines):
            writer.writerow(row)
        return response
