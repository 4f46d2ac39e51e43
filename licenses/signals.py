"""What the licenses app tells the apps above it (which it does not import)."""

from django.dispatch import Signal

# Sent inside the transaction that installs a license file, with ``server_id`` (the Server's pk).
license_installed = Signal()

# Sent when a license preview needs what is in use now, with ``server_ids`` (Server pks). A
# receiver (the seats app's) returns the use keyed (server pk, license type, method), as seats'
# ``usage_by_server`` counts it: licenses sits below seats and cannot ask it directly.
usage_requested = Signal()


def usage_now(*, server_ids) -> dict[tuple[int, str, str], int] | None:
    """What the receivers of ``usage_requested`` report in use, or None when none is connected
    (the preview then says in use is unknown rather than 0)."""
    responses = usage_requested.send(sender=None, server_ids=list(server_ids))
    if not responses:
        return None
    usage: dict[tuple[int, str, str], int] = {}
    for _receiver, answer in responses:
        usage.update(answer)
    return usage


# Sent when a license preview needs the seats the organizations hold in reserve, with
# ``server_ids``. A receiver (seats') returns the reserves summed per pool, keyed (server pk,
# license type, method).
reserves_requested = Signal()


def reserves_now(*, server_ids) -> dict[tuple[int, str, str], int]:
    """The reserves the receivers of ``reserves_requested`` report (empty when none answers)."""
    reserves: dict[tuple[int, str, str], int] = {}
    for _receiver, answer in reserves_requested.send(sender=None, server_ids=list(server_ids)):
        reserves.update(answer)
    return reserves
