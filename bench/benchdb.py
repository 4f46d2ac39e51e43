"""What the benches share: their PostgreSQL database (DATABASE_URL), created when it does not
exist yet and migrated. Call after django.setup()."""

import sys


def ensure_database() -> None:
    import psycopg
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("The benches need PostgreSQL: set DATABASE_URL")
    admin = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone():
        admin.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()
    call_command("migrate", verbosity=0)
