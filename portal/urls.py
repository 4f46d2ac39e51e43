from django.urls import path, register_converter

from . import manage_views, renewal_views, views
from .params import IdConverter

register_converter(IdConverter, "id")

app_name = "portal"

urlpatterns = [
    path("", views.index, name="index"),
    path("me/", views.own_license, name="own_license"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("org/<id:org_id>/", views.OrganizationUsageView.as_view(), name="organization"),
    path("org/<id:org_id>/holders/", views.HoldersView.as_view(), name="holders"),
    path("org/<id:org_id>/history/", views.HistoryView.as_view(), name="history"),
    path("org/<id:org_id>/history.csv", views.HistoryCsvView.as_view(), name="history_csv"),
    path("org/<id:org_id>/seats.csv", views.SeatListCsvView.as_view(), name="seats_csv"),
    path("org/<id:org_id>/renewal/", renewal_views.RenewalView.as_view(), name="renewal"),
    path("org/<id:org_id>/renewal.csv", renewal_views.RenewalCsvView.as_view(), name="renewal_csv"),
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
    # Organization administrators (manage_views.py)
    path("org/<id:org_id>/manage/", manage_views.ManageUsersView.as_view(), name="manage_users"),
    path(
        "org/<id:org_id>/manage/stations/",
        manage_views.ManageStationsView.as_view(),
        name="manage_stations",
    ),
    path(
        "org/<id:org_id>/manage/sessions/",
        manage_views.ManageSessionsView.as_view(),
        name="manage_sessions",
    ),
    path(
        "org/<id:org_id>/manage/invite/",
        manage_views.ManageInviteView.as_view(),
        name="manage_invite",
    ),
    path(
        "org/<id:org_id>/manage/users/<id:user_id>/",
        manage_views.ManageUserView.as_view(),
        name="manage_user",
    ),
    path(
        "org/<id:org_id>/manage/users/<id:user_id>/assign/",
        manage_views.MemberSeatAssignView.as_view(),
        name="manage_user_assign",
    ),
    path(
        "org/<id:org_id>/manage/users/<id:user_id>/unassign/",
        manage_views.MemberSeatsUnassignView.as_view(),
        name="manage_user_unassign",
    ),
    path(
        "org/<id:org_id>/manage/users/<id:user_id>/method/",
        manage_views.MemberMethodView.as_view(),
        name="manage_user_method",
    ),
    path(
        "org/<id:org_id>/manage/users/<id:user_id>/role/",
        manage_views.MemberRoleView.as_view(),
        name="manage_user_role",
    ),
    path(
        "org/<id:org_id>/manage/users/<id:user_id>/invitation/",
        manage_views.MemberInvitationView.as_view(),
        name="manage_user_invitation",
    ),
    path(
        "org/<id:org_id>/manage/users/<id:user_id>/remove/",
        manage_views.MemberRemoveView.as_view(),
        name="manage_user_remove",
    ),
    path(
        "org/<id:org_id>/manage/stations/add/",
        manage_views.ManageStationAddView.as_view(),
        name="manage_station_add",
    ),
    path(
        "org/<id:org_id>/manage/stations/<id:station_id>/assign/",
        manage_views.StationSeatAssignView.as_view(),
        name="manage_station_assign",
    ),
    path(
        "org/<id:org_id>/manage/stations/<id:station_id>/release/",
        manage_views.StationSeatReleaseView.as_view(),
        name="manage_station_release",
    ),
    path(
        "org/<id:org_id>/manage/sessions/<id:lease_id>/release/",
        manage_views.SessionReleaseView.as_view(),
        name="manage_session_release",
    ),
]
