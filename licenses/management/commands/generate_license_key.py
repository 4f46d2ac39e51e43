from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import BaseCommand, CommandError

from licenses.licensefile import key_id_for, private_key_pem, public_key_b64


class Command(BaseCommand):
    help = (
        "Vendor side: write a new Ed25519 signing key (PKCS8 PEM) and print its public key in the "
        "form IWP_LICENSE_PUBLIC_KEYS takes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--out", required=True, help="Where to write the private key (kept secret, mode 0600)."
        )
        parser.add_argument("--force", action="store_true", help="Overwrite an existing file.")

    def handle(self, *args, out, force, **options):
        path = Path(out)
        if path.exists() and not force:
            raise CommandError(
                f"{path} exists; pass --force to overwrite it "
                "(the old key can then no longer sign)."
            )
        key = Ed25519PrivateKey.generate()
        path.write_bytes(private_key_pem(key))
        path.chmod(0o600)
        public = key.public_key()
        self.stdout.write(
            f"Private key written to {path} (key id {key_id_for(public)}). Keep it secret."
        )
        self.stdout.write("Trust it where licenses are installed with:")
        self.stdout.write(f"IWP_LICENSE_PUBLIC_KEYS={public_key_b64(public)}")
