"""Mutants that cannot change what the program does, each with why (docs/testing.md lists them
too). tests/mutation/report.py leaves them out of the score."""

_STRICT = (
    "the rows are built from the header's seven columns, so zip() always gets equal lengths and "
    "strict= never decides anything"
)
_BATCH = (
    "the batch size only splits the upsert into statements: the same rows are written in the same "
    "transaction (a bench's concern, not a rule's)"
)
_DURABLE = (
    "durable=True only asserts that no caller holds a transaction open (the beat task does not); "
    "what is written and when it commits is the same"
)

EQUIVALENT: dict[str, str] = {
    "compliance.services.x__renewal_table__mutmut_42": _STRICT,
    "compliance.services.x__renewal_table__mutmut_45": _STRICT,
    "compliance.services.x__renewal_table__mutmut_48": _STRICT,
    "compliance.services.x__renewal_table__mutmut_49": (
        "rstrip -> lstrip: a line starts with a license's name (no space) and ends with the "
        "right-aligned Diff column (no space), so neither strips anything"
    ),
    "seats.services.pools.x_released_summary__mutmut_2": (
        "in_bulk(None) reads every server instead of the released seats' servers: the same names "
        "come out (one query either way)"
    ),
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_199": _DURABLE,
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_200": _DURABLE,
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_209": _BATCH,
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_214": _BATCH,
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_218": _BATCH,
}
