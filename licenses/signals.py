"""What the licenses app tells the apps above it (which it does not import)."""

from django.dispatch import Signal

# Sent inside the transaction that installs a license file, with ``server_id`` (the Server's pk).
license_installed = Signal()
