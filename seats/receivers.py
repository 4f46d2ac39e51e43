"""What seats does when a lower app tells it something."""

from django.dispatch import receiver

from licenses.signals import license_installed, reserves_requested, usage_requested

from .selectors import pool_reserves, usage_by_server
from .services.pools import pools_create


@receiver(license_installed, dispatch_uid="seats.pools_create")
def _pools_for_installed_license(sender, *, server_id: int, **kwargs) -> None:
    """A seat pool exists from the moment a license is installed on its server."""
    pools_create(server_id=server_id)


@receiver(usage_requested, dispatch_uid="seats.usage_by_server")
def _usage_for_license_preview(sender, *, server_ids, **kwargs) -> dict:
    """What is in use now, for the license preview (licenses cannot import seats)."""
    return usage_by_server(server_ids=server_ids)


@receiver(reserves_requested, dispatch_uid="seats.pool_reserves")
def _reserves_for_license_preview(sender, *, server_ids, **kwargs) -> dict:
    """The organizations' reserves per pool, for the license preview."""
    return pool_reserves(server_ids=server_ids)
