"""Log formatting for ``iwp_licensing.compliance`` and ``iwp_licensing.alerts``: the message
plus its structured fields.

Records carry ``event``, ``server``, ``license``, ``method``, ``licensed``, ``found`` (and
``expires_on``/``threshold_days`` for expiry warnings; ``organization``, ``threshold``,
``in_use``, ``capacity`` for utilisation alerts) as attributes; this formatter appends them as
``key=value`` pairs (or emits one JSON object per line with ``json=True``) so a collector can
alert on ``event=license_exceeded`` or ``event=threshold_reached``.
"""

import json
import logging

FIELDS = (
    "event",
    "audit_run",
    "day",
    "server",
    "license",
    "method",
    "licensed",
    "found",
    "expires_on",
    "threshold_days",
    # utilisation alerts (iwp_licensing.alerts)
    "organization",
    "threshold",
    "in_use",
    "capacity",
)


class StructuredFormatter(logging.Formatter):
    def __init__(self, *args, json: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.as_json = json

    def format(self, record):
        fields = {k: getattr(record, k) for k in FIELDS if hasattr(record, k)}
        if self.as_json:
            payload = {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
                **fields,
            }
            return json_dumps(payload)
        text = super().format(record)
        if fields:
            text += " " + " ".join(f"{k}={_quote(v)}" for k, v in fields.items())
        return text


def json_dumps(payload) -> str:
    return json.dumps(payload, default=str, ensure_ascii=False)


def _quote(value) -> str:
    s = str(value)
    return json_dumps(s) if (" " in s or "=" in s or '"' in s or not s) else s
