"""Request middleware of the project."""

from pghistory.middleware import HistoryMiddleware

from .login_throttle import client_address


class HistoryContextMiddleware(HistoryMiddleware):
    """pghistory's middleware (the request's user and URL go with every change it makes), plus the
    client's address (the one the outermost of IWP_PROXY_COUNT proxies saw), so the audit trail
    says who, from where."""

    def get_context(self, request):
        return {**super().get_context(request), "remote_addr": client_address(request)}
