"""What seats does when a lower app tells it something."""

from django.dispatch import receiver

from licenses.signals import license_installed

from .services.pools import pools_create


@receiver(license_installed, dispatch_uid="seats.pools_create")
def _pools_for_installed_license(sender, *, server_id: int, **kwargs) -> None:
    """A seat pool exists from the moment a license is installed on its server."""
    pools_create(server_id=server_id)
