"""What compliance does when a lower app tells it something."""

from django.dispatch import receiver

from seats.signals import threshold_alerts_recorded

from .services import threshold_alerts_mail


@receiver(threshold_alerts_recorded, dispatch_uid="compliance.threshold_alerts_mail")
def _mail_threshold_alerts(sender, *, alert_ids, **kwargs) -> None:
    """New utilisation alerts are mailed, in the transaction that records them."""
    threshold_alerts_mail(alert_ids=alert_ids)
