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

_NO_SESSION_YET = (
    "the login failed before its session existed, so the leases hold no session key and "
    "end_sessions has no session to end (lease_release skips that step when there is none)"
)
_NOW = (
    "every caller outside the tests gives station_occupy no `now`, so it is the current time "
    "either way"
)

_CASE = "PostgreSQL folds unquoted identifiers to lower case: E.KEY is e.key"
_DEBUG_LOG = (
    "only what Django's debug query log records for a prepared statement (every one has "
    "parameters); the statement that runs is the same"
)

_CODEC = "codec names ignore case: UTF-8 is utf-8"
_UNNAMED = (
    "the default is never reached: every character _invisible accepts that has no Unicode name is "
    "in Cc, Cs, Co or Cn, each of which the table names (checked over all 0x110000 code points)"
)

_FIRST_FIELD = "values_list(flat=True) without a field name gives the first field, id: the pk"
_LOCKED_SAVE = (
    "update_fields=None saves every field of a row just read under select_for_update in this "
    "transaction: the same values, and the one changed"
)

_KNOWN_BELOW_TOP = (
    "a process records a threshold only above what it knows for the day (the check before "
    "_record), so max(top, known) is top; only two threads' commits interleaving could make it "
    "differ, and then the lower bound is lower and a later check-out asks PostgreSQL, which "
    "refuses a second record: a query more, not another alert"
)

_THRESHOLDS = (
    "warning_threshold reads settings.IWP_EXPIRY_WARNING_DAYS when given no thresholds, and "
    "thresholds is list() of that same setting"
)

_ADDS_ONCE = "each (pool, organization) key is visited once: = and += write the same"
_UNREAD_FLAGS = "an attempt that took a seat never has these flags read"
_SAME_FALSY = (
    "that branch runs only when row[6] is false: the value passed on is as falsy (or equal)"
)
_COUNTED_ORGS = (
    "every organization looked up has just been given a seat in this transaction, so the default "
    "is never used; and reading more rows only looks up the keys already wanted"
)

_NONE_FOR_FALSE = "None for False in flags that are only tested for truth (`not user_holds`, ...)"

_PEAK_DEFAULT = (
    "a peak is written after a take, so its count n is at least 1: a default of -2, -1 or +1 "
    "for the mark this process wrote is below or equal to n, and max() and the skip come out "
    "the same"
)
_NO_SENDER = (
    "the signal's receivers are connected for any sender (seats/receivers.py, "
    "compliance/receivers.py): sent by None, they run the same"
)
_USER_JOIN = (
    "select_related(None) drops the join: a refusal reads who is at the station in one query "
    "more, and says the same"
)
_NO_BINARY = "Django's cursor wrapper never passes binary: None (text format) either way"

EQUIVALENT: dict[str, str] = {
    "seats.services.leases.acquire.x__take__mutmut_45": _NONE_FOR_FALSE,
    "seats.services.leases.acquire.x__take__mutmut_46": _NONE_FOR_FALSE,
    "seats.services.members.x__release_concurrent__mutmut_5": _FIRST_FIELD,
    "seats.services.members.x_membership_change_role__mutmut_21": _LOCKED_SAVE,
    "seats.services.assignments.x__take__mutmut_67": (
        "in_bulk(None) reads every server instead of the short pools' servers: one query either "
        "way, and only those servers' names are used"
    ),
    "seats.services.assignments.x__take__mutmut_3": _ADDS_ONCE,
    "seats.services.assignments.x__take__mutmut_48": _ADDS_ONCE,
    "seats.services.assignments.x__count_peaks__mutmut_5": _COUNTED_ORGS,
    "seats.services.assignments.x__count_peaks__mutmut_6": _COUNTED_ORGS,
    "seats.services.assignments.x__count_peaks__mutmut_7": _COUNTED_ORGS,
    "seats.services.assignments.x__count_peaks__mutmut_8": _COUNTED_ORGS,
    "seats.services.assignments.x__count_peaks__mutmut_33": _COUNTED_ORGS,
    "seats.services.assignments.x__count_peaks__mutmut_35": _COUNTED_ORGS,
    "seats.services.assignments.x__count_peaks__mutmut_36": _COUNTED_ORGS,
    "seats.services.leases.acquire.x__attempt__mutmut_16": _UNREAD_FLAGS,
    "seats.services.leases.acquire.x__attempt__mutmut_17": _UNREAD_FLAGS,
    "seats.services.leases.acquire.x__attempt__mutmut_30": _UNREAD_FLAGS,
    "seats.services.leases.acquire.x__attempt__mutmut_31": _UNREAD_FLAGS,
    "seats.services.leases.acquire.x__take__mutmut_61": (
        "the lease id (row[0]) and the take's count (row[1]) are NULL in exactly the same cases"
    ),
    "seats.services.leases.acquire.x__take__mutmut_78": _SAME_FALSY,
    "seats.services.leases.acquire.x__take__mutmut_84": _SAME_FALSY,
    "seats.services.leases.acquire.x_lease_acquire__mutmut_20": (
        "token_hex(17): the key is as random and still fits the 40-character column"
    ),
    "seats.services.leases.acquire.x_lease_acquire__mutmut_63": (
        'requirement = "": it is read only after the loop has set it'
    ),
    "seats.services.leases.acquire.x_lease_acquire__mutmut_64": _DURABLE,
    "seats.services.leases.acquire.x_lease_acquire__mutmut_65": _DURABLE,
    "seats.services.members.x_membership_remove__mutmut_17": _FIRST_FIELD,
    "seats.services.members.x_membership_remove__mutmut_36": _FIRST_FIELD,
    "seats.services.members.x_membership_remove__mutmut_26": (
        "released is [] just before: released = seat_release(...) is released += seat_release(...)"
    ),
    "seats.services.clients.x_client_checkout__mutmut_37": _FIRST_FIELD,
    "seats.services.clients.x_client_checkout__mutmut_45": (
        "only the seat API's leases have a client id (a browser's is empty, and the API refuses an "
        "empty one), so the client-id filter already keeps to source=API"
    ),
    "compliance.selectors.x_expiring_entitlements__mutmut_10": _THRESHOLDS,
    "compliance.selectors.x_expiring_entitlements__mutmut_12": _THRESHOLDS,
    "compliance.selectors.x_audit_findings__mutmut_70": (
        "in_bulk(None) reads every server instead of the missing ones: still one query, and only "
        "servers with a finding are used"
    ),
    "compliance.services.x__lock_audit__mutmut_6": "SQL keywords ignore case: select is SELECT",
    "compliance.services.x__expiry_message__mutmut_17": (
        "[:401] for [:400]: the message is at most about 353 characters (a label of up to 68, a "
        "serial and a server id of up to 100 each, 85 of fixed text), so the cut never applies"
    ),
    "compliance.services.x__digest__mutmut_3": (
        'the parts are digits, lower-case letters and "/", never "XX" or a newline: joined with '
        '"XX\\nXX" they still map one set to one key and different sets to different keys'
    ),
    "compliance.services.x__digest__mutmut_4": (
        "a 17-character prefix of the same sha256 instead of 16: which runs share a key does not "
        "change, and it fits the column"
    ),
    "compliance.services.x_compliance_audit_run__mutmut_3": (
        "acting_as(None): nothing the audit writes is tracked by the audit trail (runs, events, "
        "warnings, outbox rows), so the acting user is recorded nowhere"
    ),
    "seats.services.alerts.x__committed__mutmut_2": _KNOWN_BELOW_TOP,
    "seats.services.alerts.x__committed__mutmut_6": _KNOWN_BELOW_TOP,
    "seats.services.alerts.x__committed__mutmut_12": _KNOWN_BELOW_TOP,
    "seats.services.alerts.x__committed__mutmut_15": _KNOWN_BELOW_TOP,
    "seats.services.alerts.x_caps_forget__mutmut_5": 'float() reads "-INF" as "-inf"',
    "portal.features.x_features_of_user__mutmut_27": (
        "held_seats | ACCESS_TYPES adds only licenses the server has no valid entitlement of, and "
        "feature_refusal refuses those for the license before it looks at seats (and SATISFIED_BY "
        "needs the license valid too)"
    ),
    "seats.services.assignments.x_seat_release__mutmut_37": _FIRST_FIELD,
    "seats.services.assignments.x_seat_release_bulk__mutmut_9": _FIRST_FIELD,
    "seats.services.assignments.x_user_change_method__mutmut_15": _LOCKED_SAVE,
    "seats.services.leases.acquire.x__seat_on_server__mutmut_16": (
        "give_back=None: NULL in the release statement's condition releases nothing, as false does"
    ),
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_35": (
        "denials_on's keys are distinct, so each organization's key is added to once: = and += "
        "write the same"
    ),
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_58": (
        "a new row's peak defaults to 0 and the closing UPDATE raises every row of the day to its "
        "in_use"
    ),
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_160": (
        "a day's denials only grow (SeatDenial rows are kept), so every row that had denials in an "
        "earlier snapshot is written again with at least as many: the reset of denials is never "
        "what a row ends with"
    ),
    "licenses.licensefile.x__decoded__mutmut_4": _CODEC,
    "licenses.licensefile.x__decoded__mutmut_20": _CODEC,
    "licenses.licensefile.x__load_json__mutmut_11": (
        "too_deep = None: it is only read in `too_deep or ...`, where None and False are both false"
    ),
    "licenses.content.x__describe__mutmut_4": (
        "unicodedata.name(char, None): the result is only tested for truth before `or`, and None "
        'is as false as ""'
    ),
    "licenses.content.x__describe__mutmut_9": _UNNAMED,
    "licenses.content.x__describe__mutmut_11": _UNNAMED,
    "licenses.content.x__describe__mutmut_33": _UNNAMED,
    "licenses.content.x__describe__mutmut_34": _UNNAMED,
    "compliance.services.x__renewal_table__mutmut_42": _STRICT,
    "compliance.services.x__renewal_table__mutmut_45": _STRICT,
    "compliance.services.x__renewal_table__mutmut_48": _STRICT,
    "compliance.services.x__renewal_table__mutmut_49": (
        "rstrip -> lstrip: a line starts with a license's name (no space) and ends with the "
        "right-aligned Diff column (no space), so neither strips anything"
    ),
    "seats.services.login.x_login_seats_abandon__mutmut_4": _NO_SESSION_YET,
    "seats.services.login.x_login_seats_abandon__mutmut_8": _NO_SESSION_YET,
    "seats.services.login.x_login_seats_abandon__mutmut_9": _NO_SESSION_YET,
    "seats.services.stations.x__end__mutmut_10": _NOW,
    "seats.services.stations.x__end__mutmut_13": _NOW,
    "seats.services.stations.x_station_leave__mutmut_1": (
        'the default session_key "" -> "XXXX": with neither a key nor an occupancy nothing is '
        "left either way (no session has that key)"
    ),
    "seats.sql.x__held_plus__mutmut_4": _CASE,
    "seats.sql.x__others_unused_reserves__mutmut_6": _CASE,
    "seats.sql.x__others_unused_reserves__mutmut_11": _CASE,
    "seats.sql.xǁ_DebugWrapperǁexecute__mutmut_2": _DEBUG_LOG,
    "seats.sql.xǁ_DebugWrapperǁexecute__mutmut_4": _DEBUG_LOG,
    "seats.sql.xǁ_DebugWrapperǁexecute__mutmut_6": _DEBUG_LOG,
    "seats.services.pools.x_released_summary__mutmut_2": (
        "in_bulk(None) reads every server instead of the released seats' servers: the same names "
        "come out (one query either way)"
    ),
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_155": _DURABLE,
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_156": _DURABLE,
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_165": _BATCH,
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_170": _BATCH,
    "seats.services.snapshots.x_usage_snapshot_take__mutmut_174": _BATCH,
    "seats.services.members.x__a__mutmut_7": (
        "no license or role label begins with X, so the vowels with X and XX around them pick the "
        "same article"
    ),
    "seats.services.alerts.x__caps_of__mutmut_3": (
        ">= for >: the caps are read again at exactly CAPS_SECONDS instead of just after it; a "
        "monotonic clock in float seconds does not land on it, and either way they are at most "
        "that old"
    ),
    "seats.services.alerts.x__caps_of__mutmut_18": (
        "caps are looked up only for organizations that have just taken seats, and members of an "
        "inactive organization take none: an inactive organization's cap is never looked up"
    ),
    "seats.services.pools.x_daily_peak_raise__mutmut_8": _PEAK_DEFAULT,
    "seats.services.pools.x_daily_peak_raise__mutmut_37": _PEAK_DEFAULT,
    "seats.services.pools.x_daily_peak_raise__mutmut_38": _PEAK_DEFAULT,
    "seats.services.pools.x_daily_peak_raise__mutmut_33": (
        "max(n, default) for max(n, the mark already kept): the kept mark may end lower than "
        "written, which costs a later UPDATE that GREATEST() makes harmless, never a wrong peak"
    ),
    "seats.sql.x__cursor__mutmut_8": (
        "the debug wrapper always: it also records each statement in Django's query log; the "
        "statement that runs and its rows are the same"
    ),
    "seats.sql.xǁ_PreparedCursorǁexecute__mutmut_4": _NO_BINARY,
    "seats.sql.xǁ_PreparedCursorǁexecute__mutmut_8": _NO_BINARY,
    "seats.services.leases.assigned.x_assigned_seat_check__mutmut_20": (
        "the seats found are looked up by the requirements' (server, license) only: one of "
        "another server would be read and never used"
    ),
    "licenses.services.x_license_file_import__mutmut_17": (
        "a full save of the replaced file's row, read in this transaction under the server's lock "
        "that every import to that server takes: the same values, and the one changed"
    ),
    "licenses.services.x_license_file_import__mutmut_49": _NO_SENDER,
    "seats.services.alerts.x__record__mutmut_25": _NO_SENDER,
    "seats.services.login.x_login_seats_take__mutmut_24": _NO_SESSION_YET,
    "seats.services.login.x_login_seats_take__mutmut_27": _NO_SESSION_YET,
    "seats.services.login.x_login_seats_take__mutmut_28": _NO_SESSION_YET,
    "seats.services.stations.x__held__mutmut_5": _USER_JOIN,
    "portal.features.x_feature_refusal__mutmut_97": (
        "break for continue once a license is satisfied by another's seat: only the agent page's "
        "license is (SATISFIED_BY), and it is that page's only license, so nothing follows"
    ),
    "portal.features.x_features_of_user__mutmut_26": (
        "a seat is consulted only for a license the server holds valid (checked before), so "
        "counting seats of the others too changes no answer"
    ),
    "seats.services.alerts.x_pool_alerts_raise__mutmut_30": (
        "the default's count is read only when its day is today's, and the default's day is None"
    ),
}
