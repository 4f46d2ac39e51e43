"""The portal's Renewal page: per access license, this organization's last 90 days, its peak
projected to the license's expiry and the count to buy (compliance/renewal.py), and its CSV."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.views.generic import TemplateView, View

from compliance.renewal import HISTORY_DAYS, renewal_csv_rows, renewal_for_organization
from portal.features import Feature, feature_refusal

from . import exports
from .charts import usage_chart_svg
from .scoping import PortalFeatureMixin, render_refusal
from .views import _stream_csv


class RenewalView(PortalFeatureMixin, TemplateView):
    feature = Feature.RENEWAL
    template_name = "portal/renewal.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        lines = renewal_for_organization(organization=self.organization)
        for line in lines:
            line.svg = usage_chart_svg(
                points=line.points,
                start=line.projection_start - timedelta(days=HISTORY_DAYS),
                end=line.projection_start - timedelta(days=1),
                title=f"{line.label}: the last {HISTORY_DAYS} days and the projected peak",
                projection=line.projected_points,
            )
        context.update(
            lines=lines,
            history_days=HISTORY_DAYS,
            headroom=settings.IWP_RENEWAL_HEADROOM_PERCENT,
            can_export=feature_refusal(Feature.EXPORTS, self.gate) is None,
        )
        return context


class RenewalCsvView(PortalFeatureMixin, View):
    """The renewal table as CSV: needs Renewal, and CSV exports too."""

    feature = Feature.RENEWAL

    def get(self, request, org_id):
        refusal = feature_refusal(Feature.EXPORTS, self.gate)
        if refusal is not None:
            return render_refusal(request, [refusal], organization=self.organization)
        return _stream_csv(
            renewal_csv_rows(renewal_for_organization(organization=self.organization)),
            exports.export_filename(self.organization, "renewal", timezone.localdate()),
        )
