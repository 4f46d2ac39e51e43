"""What the seats app tells the apps above it (which it does not import)."""

from django.dispatch import Signal

# Sent inside the transaction that records new utilisation alerts (seats/services/alerts.py), with
# ``alert_ids``: the ThresholdAlert pks of one pool or one organization's share of it, lowest
# threshold first. A receiver that raises rolls them back with it: the next check-out at that
# level records them again, so an alert is never recorded without what its receivers do.
threshold_alerts_recorded = Signal()
