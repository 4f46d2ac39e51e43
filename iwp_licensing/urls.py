from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from api.api import api
from portal.views import InvitationAcceptView

urlpatterns = [
    path("", RedirectView.as_view(url="/portal/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path(
        "accounts/invitation/<str:token>/",
        InvitationAcceptView.as_view(),
        name="invitation_accept",
    ),
    path("accounts/", include("seats.urls")),
    path("portal/", include("portal.urls")),
]
