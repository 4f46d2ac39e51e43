from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from organizations.models import Organization, Server
from seats.selectors import server_is_licensed


@login_required
def index(request):
    organizations = list(Organization.objects.for_user(request.user).select_related("server"))
    servers = {o.server_id: o.server for o in organizations}
    unlicensed = [s for s in servers.values() if not server_is_licensed(server=s)]
    if unlicensed:
        return render(request, "portal/unlicensed.html", {"servers": unlicensed}, status=503)
    return render(request, "portal/index.html", {"organizations": organizations})
