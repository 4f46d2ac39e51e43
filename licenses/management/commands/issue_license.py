import uuid
from datetime import date, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from licenses.content import iso_date
from licenses.licensefile import (
    LicenseContent,
    LicenseFileError,
    load_private_key,
    parse_entitlement_spec,
    sign,
    validate_content,
)


def _date(value: str, option: str) -> date:
    day = iso_date(value)
    if day is None:
        raise CommandError(f"{option} {value!r} is not a date; use YYYY-MM-DD.")
    return day


class Command(BaseCommand):
    help = "Vendor side: write a license file for one server, signed with an Ed25519 private key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--key",
            required=True,
            help=(
                "Ed25519 private key, PKCS8 PEM "
                "(generate_license_key or openssl genpkey -algorithm ed25519)."
            ),
        )
        parser.add_argument("--server-id", required=True, help="The server the license is for.")
        parser.add_argument("--customer", required=True)
        parser.add_argument(
            "--entitlement",
            action="append",
            required=True,
            metavar="SPEC",
            help=(
                "server | organization=N | supervisor:assignable=N | supervisor:concurrent=N | "
                "agent:assignable=N | agent:concurrent=N | marquee | scheduled_reports; "
                "a counted one may end in +P%% (agent:concurrent=50+10%%). Repeat."
            ),
        )
        parser.add_argument("--starts", help="First valid day, YYYY-MM-DD (default: today).")
        parser.add_argument(
            "--expires", help="Last valid day, YYYY-MM-DD (default: one year from the start)."
        )
        parser.add_argument("--serial", help="Unique serial (default: a new random one).")
        parser.add_argument("--out", required=True, help="Where to write the license file.")

    def handle(
        self, *args, key, server_id, customer, entitlement, starts, expires, serial, out, **options
    ):
        try:
            private_key = load_private_key(Path(key).read_bytes())
        except FileNotFoundError:
            raise CommandError(f"--key: {key} does not exist.") from None
        except LicenseFileError as exc:
            raise CommandError(f"--key: {exc.message}") from None
        specs = []
        for spec in entitlement:
            try:
                specs.append(parse_entitlement_spec(spec))
            except ValueError as exc:
                raise CommandError(f"--entitlement: {exc}") from None
        today = timezone.localdate()
        starts_on = _date(starts, "--starts") if starts else today
        try:
            expires_on = _date(expires, "--expires") if expires else starts_on + timedelta(days=365)
        except OverflowError:
            raise CommandError(f"--starts {starts_on}: give --expires too.") from None
        if expires_on < starts_on:
            raise CommandError(f"--expires {expires_on} is before the start {starts_on}.")
        content = LicenseContent(
            serial=(serial or f"IWP-{uuid.uuid4().hex[:12].upper()}").strip(),
            customer=customer.strip(),
            server_id=server_id.strip(),
            issued_on=today,
            starts_on=starts_on,
            expires_on=expires_on,
            entitlements=tuple(specs),
        )
        try:
            # The rules the import checks, so nothing is signed that an installation would refuse.
            validate_content(content, day=today)
        except LicenseFileError as exc:
            raise CommandError(f"Not signed: {exc.detail}.") from None
        Path(out).write_text(sign(content, private_key))
        self.stdout.write(
            f"License {content.serial} for server {server_id} ({customer}), "
            f"valid {starts_on} to {expires_on}, "
            f"{len(specs)} entitlement(s), written to {out}."
        )
