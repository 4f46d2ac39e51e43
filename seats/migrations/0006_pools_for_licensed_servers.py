"""A seat pool exists from the moment a license is installed: create the missing ones of servers
licensed before that rule, counting the seats held now (the pools used to appear on first use)."""

from django.db import migrations

FORWARD = """
INSERT INTO seats_seatpool (server_id, license_type, method, in_use)
SELECT s.id, t.license_type, m.method,
  CASE m.method
    WHEN 'assignable' THEN (SELECT count(*) FROM seats_seatassignment a
      WHERE a.server_id = s.id AND a.license_type = t.license_type AND a.released_at IS NULL)
    ELSE (SELECT count(*) FROM seats_seatlease l
      WHERE l.server_id = s.id AND l.license_type = t.license_type AND l.released_at IS NULL)
  END
FROM organizations_server s
CROSS JOIN (VALUES ('supervisor'), ('agent')) AS t(license_type)
CROSS JOIN (VALUES ('assignable'), ('concurrent')) AS m(method)
WHERE EXISTS (SELECT 1 FROM licenses_licensefile f WHERE f.server_id = s.id)
ON CONFLICT (server_id, license_type, method) DO NOTHING
"""


class Migration(migrations.Migration):
    dependencies = [
        ("seats", "0005_history"),
        ("licenses", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
