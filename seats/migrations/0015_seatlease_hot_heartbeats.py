"""A seat API heartbeat (and a browser session's touch) updates ``expires_at`` and
``last_seen_at``. While an index holds either column, each such UPDATE writes a new entry in
every index of the table; without, it is a HOT update (heap only) when the row's page has room,
which fillfactor 90 keeps for rows inserted from now on. The sweep finds idle and overdue seats
through seatlease_active_pool (a few ms at 10,000 held, once a minute)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("seats", "0014_threshold_alerts"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="seatlease",
            name="seatlease_active_last_seen",
        ),
        migrations.RemoveIndex(
            model_name="seatlease",
            name="seatlease_active_expires",
        ),
        migrations.RunSQL(
            "ALTER TABLE seats_seatlease SET (fillfactor = 90)",
            reverse_sql="ALTER TABLE seats_seatlease RESET (fillfactor)",
        ),
    ]
