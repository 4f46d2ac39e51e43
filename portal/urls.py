from django.urls import path, register_converter

from . import views
from .params import IdConverter

register_converter(IdConverter, "id")

app_name = "portal"

urlpatterns = [
    path("", views.index, name="index"),
    path("me/", views.own_license, name="own_license"),
    path("org/<id:org_id>/", views.OrganizationUsageView.as_view(), name="organization"),
    path("org/<id:org_id>/holders/", views.HoldersView.as_view(), name="holders"),
    path("org/<id:org_id>/history/", views.HistoryView.as_view(), name="history"),
    path("org/<id:org_id>/history.csv", views.HistoryCsvView.as_view(), name="history_csv"),
    path("org/<id:org_id>/seats.csv", views.SeatListCsvView.as_view(), name="seats_csv"),
    path("org/<id:org_id>/compliance/", views.ComplianceView.as_view(), name="compliance"),
    path("org/<id:org_id>/wallboard/", views.WallboardView.as_view(), name="wallboard"),
    path(
        "org/<id:org_id>/wallboard.json", views.WallboardDataView.as_view(), name="wallboard_data"
    ),
    path("org/<id:org_id>/reports/", views.ReportListView.as_view(), name="reports"),
    path(
        "org/<id:org_id>/reports/<id:report_id>/",
        views.ReportEditView.as_view(),
        name="report_edit",
    ),
    path(
        "org/<id:org_id>/reports/<id:report_id>/delete/",
        views.ReportDeleteView.as_view(),
        name="report_delete",
    ),
    path(
        "org/<id:org_id>/runs/<id:run_id>/download/",
        views.ReportRunDownloadView.as_view(),
        name="run_download",
    ),
]
