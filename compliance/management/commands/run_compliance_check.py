from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from compliance.models import AuditTrigger
from compliance.services import compliance_audit_run


class Command(BaseCommand):
    help = (
        "Run the compliance audit now for one day (by default the day that ended, as the "
        "scheduled audit does) and print each exceeded license."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help="The day to audit, YYYY-MM-DD, up to today (today: the day so far). Default: "
            "yesterday in TIME_ZONE.",
        )

    def handle(self, *args, **options):
        today = timezone.localdate()
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD: {exc}") from exc
        if day is None:
            day = today - timedelta(days=1)
        elif day > today:
            raise CommandError(
                f"--date {day:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d} in "
                "TIME_ZONE): a day can be audited once it has begun, and judged whole once it "
                "has ended."
            )
        run = compliance_audit_run(day=day, trigger=AuditTrigger.COMMAND)
        exceeded = list(run.day_events())
        if not exceeded:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{day:%Y-%m-%d}: all licenses are within their counts "
                    f"({run.licenses_checked} checked)."
                )
            )
        for event in exceeded:
            self.stdout.write(self.style.ERROR(event.message))
        if exceeded:
            self.stdout.write(
                f"{day:%Y-%m-%d}: {len(exceeded)} license(s) exceeded, "
                f"{run.events_recorded} newly recorded"
                + (f", e-mail queued to {', '.join(run.mail.to)}" if run.mail else "")
                + "."
            )
        for warning in run.warnings.all():
            self.stdout.write(self.style.WARNING(warning.message))
