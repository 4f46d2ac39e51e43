"""Request middleware of the project."""

from pghistory.middleware import HistoryMiddleware


class HistoryContextMiddleware(HistoryMiddleware):
    """pghistory's middleware (the request's user and URL go with every change it makes), plus the
    client's address, so the audit trail says who, from where."""

    def get_context(self, request):
        return {**super().get_context(request), "remote_addr": request.META.get("REMOTE_ADDR")}
