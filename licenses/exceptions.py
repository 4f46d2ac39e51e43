"""Refusals a user or an administrator sees. Each message names the license, the
server and the count."""


class LicenseLimitReached(Exception):
    """A counted license has no room left on a server: nothing was changed."""

    def __init__(
        self,
        message: str,
        *,
        server_id: str,
        license_type: str,
        method: str = "",
        in_use: int = 0,
        capacity: int = 0,
        code: str = "pool_full",
    ):
        super().__init__(message)
        self.message = message
        self.code = code  # pool_full, cap_reached (the organization's cap), reserved_elsewhere
        self.server_id = server_id
        self.license_type = license_type
        self.method = method
        self.in_use = in_use
        self.capacity = capacity

    def __str__(self):
        return self.message


class LicenseMissing(Exception):
    """A server lacks a license a feature or an operation needs."""

    def __init__(self, message: str, *, server_id: str, license_type: str):
        super().__init__(message)
        self.message = message
        self.server_id = server_id
        self.license_type = license_type

    def __str__(self):
        return self.message


class LicenseFileError(Exception):
    """A license file was refused. ``reason`` is a short code; the message (one line) says what
    to do. ``detail`` is the broken rule alone, for issue_license; ``key_id`` the signing key."""

    def __init__(self, reason: str, message: str, *, detail: str = "", key_id: str = ""):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.detail = detail or message
        self.key_id = key_id
