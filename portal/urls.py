from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.index, name="index"),
    path("me/", views.own_license, name="own_license"),
    path("org/<int:org_id>/", views.OrganizationUsageView.as_view(), name="organization"),
    path("org/<int:org_id>/holders/", views.HoldersView.as_view(), name="holders"),
    path("org/<int:org_id>/history/", views.HistoryView.as_view(), name="history"),
    path("org/<int:org_id>/history.csv", views.HistoryCsvView.as_view(), name="history_csv"),
    path("org/<int:org_id>/seats.csv", views.SeatListCsvView.as_view(), name="seats_csv"),
    path("org/<int:org_id>/compliance/", views.ComplianceView.as_view(), name="compliance"),
    path("org/<int:org_id>/wallboard/", views.WallboardView.as_view(), name="wallboard"),
    path(
        "org/<int:org_id>/wallboard.json", views.WallboardDataView.as_view(), name="wallboard_data"
    ),
    path("org/<int:org_id>/reports/", views.ReportListView.as_view(), name="reports"),
    path(
        "org/<int:org_id>/reports/<int:report_id>/",
        views.ReportEditView.as_view(),
        name="report_edit",
    ),
    path(
        "org/<int:org_id>/runs/<int:run_id>/download/",
        views.ReportRunDownloadView.as_view(),
        name="run_download",
    ),
]
