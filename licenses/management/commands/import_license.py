from django.core.management.base import BaseCommand, CommandError

from licenses.licensefile import MAX_FILE_BYTES, LicenseFileError
from licenses.selectors import LicensePreview, LineTerms, license_file_preview
from licenses.services import license_file_import, license_file_verify


def _terms(terms: LineTerms | None) -> list[str]:
    if terms is None:
        return ["—", "", ""]
    quantity = "yes" if terms.quantity is None else str(terms.quantity)
    overage = f"+{terms.overage_percent}%" if terms.overage_percent else ""
    return [quantity, overage, f"{terms.expires_on:%Y-%m-%d}"]


def preview_table(preview: LicensePreview) -> list[str]:
    """The admin's preview as plain-text lines: installed now beside the new file."""
    header = ["License", "Now", "Allow", "Expires", "New", "Allow", "Expires", "In use", ""]
    rows = []
    for line in preview.lines:
        in_use = "" if line.in_use is None else str(line.in_use)
        mark = (
            f"EXCEEDED ({line.new_licensed} licensed)"
            if line.exceeded
            else "changed"
            if line.changed
            else ""
        )
        rows.append([line.label, *_terms(line.current), *_terms(line.new), in_use, mark])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


class Command(BaseCommand):
    help = (
        "Install a signed license file; it replaces the server's installed license. "
        "Refused files change nothing. --dry-run shows what would change and installs nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--server-id", help="Refuse the file unless it is issued for this server."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Verify the file and print the installed license beside it; change nothing.",
        )

    def handle(self, *args, file, server_id, dry_run, **options):
        try:
            # One byte past the cap is enough for the import to refuse a file that is too big.
            with open(file, "rb") as f:
                text = f.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        try:
            if dry_run:
                self._preview(text=text, server_id=server_id)
                return
            license_file = license_file_import(text=text, expected_server_id=server_id)
        except LicenseFileError as exc:
            raise CommandError(f"{file} was refused ({exc.reason}): {exc.message}") from None
        self.stdout.write(
            f"License {license_file.serial} installed for server {license_file.server.server_id}:"
        )
        for e in license_file.entitlements.all():
            self.stdout.write(f"  {e} — valid {e.starts_on} to {e.expires_on}")

    def _preview(self, *, text: bytes, server_id: str | None) -> None:
        content, key_id = license_file_verify(text=text, expected_server_id=server_id)
        preview = license_file_preview(content=content, key_id=key_id)
        current = preview.current_file
        self.stdout.write(
            f"Dry run: license {content.serial} for {content.customer}, server "
            f"{content.server_id}, verified with key {key_id}; nothing was installed."
        )
        self.stdout.write(
            f"It would replace license {current.serial}."
            if current
            else f"Server {content.server_id} has no license installed."
            if preview.server
            else f"Server {content.server_id} is not here yet; installing would create it."
        )
        for line in preview_table(preview):
            self.stdout.write(line)
        if not preview.usage_known:
            self.stdout.write("In use is not known to this command; the admin's preview shows it.")
        elif preview.exceeded:
            self.stdout.write(
                f"Today's use exceeds the new count on {len(preview.exceeded)} license(s)."
            )
