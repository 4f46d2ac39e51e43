from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from compliance.models import AuditTrigger
from compliance.services import compliance_audit_run


class Command(BaseCommand):
    help = (
        "Run the compliance audit now for one day (today by default) "
        "and print each exceeded license."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", help="The day to audit, YYYY-MM-DD (default: today in TIME_ZONE)."
        )

    def handle(self, *args, **options):
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD: {exc}") from exc
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
