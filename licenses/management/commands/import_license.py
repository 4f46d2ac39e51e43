from django.core.management.base import BaseCommand, CommandError

from licenses.licensefile import MAX_FILE_BYTES, LicenseFileError
from licenses.services import license_file_import


class Command(BaseCommand):
    help = (
        "Install a signed license file; it replaces the server's installed license. "
        "Refused files change nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--server-id", help="Refuse the file unless it is issued for this server."
        )

    def handle(self, *args, file, server_id, **options):
        try:
            # One byte past the cap is enough for the import to refuse a file that is too big.
            with open(file, "rb") as f:
                text = f.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        try:
            license_file = license_file_import(text=text, expected_server_id=server_id)
        except LicenseFileError as exc:
            raise CommandError(f"{file} was refused ({exc.reason}): {exc.message}") from None
        self.stdout.write(
            f"License {license_file.serial} installed for server {license_file.server.server_id}:"
        )
        for e in license_file.entitlements.all():
            self.stdout.write(f"  {e} — valid {e.starts_on} to {e.expires_on}")
