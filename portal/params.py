"""Input from the URL and the query string, cleaned once for every portal view; the site's
address for links in mail.

Ids in the URL are PostgreSQL bigints: a number beyond one is no id, so the URL does not match
(a 404) instead of reaching a query. Text from the query string loses any NUL character, which
PostgreSQL cannot store or compare, and is cut to a length a search needs.
"""

from django.conf import settings
from django.urls.converters import IntConverter

BIGINT_MAX = 2**63 - 1


class IdConverter(IntConverter):
    """``<id:name>``: a database id, 0 to BIGINT_MAX."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > BIGINT_MAX:
            raise ValueError(f"{value} is beyond a bigint")
        return number


def search_text(request, name: str = "q", *, max_length: int = 100) -> str:
    """A search term from the query string: without NUL characters, stripped, at most
    ``max_length`` characters."""
    return request.GET.get(name, "").replace("\x00", "").strip()[:max_length]


def site_url(request) -> str:
    """The base of links in mail (invitations): IWP_SITE_URL, else the address the request
    came to."""
    return settings.IWP_SITE_URL or request.build_absolute_uri("/")
