"""``candor audit``: checks anyone can run against a live database or a restored dump.

It needs only ``DATABASE_URL``, opens its connection with
``default_transaction_read_only`` and reads everything in one repeatable-read
transaction, so it never writes and sees one consistent state. The app runs it at
start-up and stores the latest result (:func:`startup_audit`) for the privacy page.

The CLI speaks English; the privacy page speaks its reader's language. So each check's
description and each line of its findings is an English template marked with ``N_()``
(extracted like the analysis' sentences), its values kept beside it (``findings``), and
the page fills the template's translation (:func:`for_reader`). ``details`` keeps the
English lines the CLI prints.

The checks and what each proves (DESIGN.md, anonymity invariants 1–3):

``commit-timestamps``
    ``track_commit_timestamp`` is off: on, PostgreSQL keeps the commit time of every
    transaction, so each anonymous row's ``xmin`` would carry a time of day.
``statement-logging``
    Nothing logs statements, durations or connections, and the log line prefix has no
    client address (``%h``/``%r``): a log of ``insert into responses`` with a time and a
    client next to a log of the token request links them. Read from ``current_setting``
    and from ``pg_db_role_setting`` (``ALTER ROLE/DATABASE … SET`` for this role and
    database, which apply at the next connection).
``column-precision``
    No column on an anonymous or issuance table (read from the catalog, so a column added
    later is caught) holds a time of day or a transaction position (timestamp[tz], time[tz],
    xid, xid8, pg_lsn, tid, cid, snapshots — also inside arrays, domains, ranges and
    composites). ``date`` only where the design allows a day: ``threads.opened_on`` and
    ``thread_messages.posted_on`` (threads keep their date for SLA metrics), and the
    monthly ``period`` of thread tokens (always a month's first day). The one timestamp
    allowed is ``thread_messages.posted_at``: it is a *staff* reply's time (what staff
    do is not anonymous), and it is accepted only while a check constraint ties it to
    ``from_staff`` and no author message carries one.
``ordered-defaults``
    No default, generated expression or trigger on those tables draws on a sequence,
    a clock or a transaction id (``nextval``, ``uuidv7``, ``now()``, ``current_timestamp``,
    ``clock_timestamp``, ``txid_current`` …), and no identity column. ``current_date``
    is tolerated only on the allowed date columns, whose value it is anyway.
``arrival-order``
    Rows beyond the scrub window keep no arrival order; :func:`check_arrival_order` says
    which rows are examined and :func:`order_findings` exactly what is computed.
``expired-sessions``
    No session is past its idle or absolute expiry by more than one purge interval: kept
    sign-in times map transaction ids to wall-clock time.
``key-log``
    The key transparency log holds together (invariant 8): the latest signed head covers
    every stored entry, its root recomputed here and its signature valid for the log key;
    one key per wave and month; every opened wave's and thread month's key is logged.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import logging
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

import asyncpg
import msgspec

from analysis.wording import N_
from crypto import transparency as ct
from service.housekeeping import PURGE_INTERVAL_SECONDS
from service.queries import audit as audit_q
from service.queries import transparency as transparency_q
from service.settings import Settings, SettingsError

log = logging.getLogger("candor.audit")

ANONYMOUS_TABLES = ("responses", "spent_tokens", "threads", "thread_messages", "thread_spent_tokens")
ISSUANCE_TABLES = ("token_issuances", "thread_token_issuances")
WATCHED_TABLES = ANONYMOUS_TABLES + ISSUANCE_TABLES

# Types that carry a time of day or a position in the transaction/WAL stream.
TIME_TYPES = frozenset({"timestamp", "timestamptz", "time", "timetz", "abstime", "reltime", "tinterval"})
ORDER_TYPES = frozenset({"xid", "xid8", "cid", "tid", "pg_lsn", "txid_snapshot", "pg_snapshot"})
ALLOWED_DATES = {
    ("threads", "opened_on"): "a thread's day (SLA metrics)",
    ("thread_messages", "posted_on"): "a message's day",
    ("thread_spent_tokens", "period"): "the token's month (first day)",
    ("thread_token_issuances", "period"): "the issuance month (first day)",
}
STAFF_TIME = ("thread_messages", "posted_at")

ORDERED_EXPRESSION = re.compile(
    r"\b(nextval|uuidv7|uuid_generate_v1(mc)?|uuid_generate_v[67]|now|current_timestamp|current_time|"
    r"current_date|localtime|localtimestamp|clock_timestamp|statement_timestamp|transaction_timestamp|"
    r"timeofday|txid_current\w*|pg_current_xact_id\w*|pg_current_wal\w*|pg_snapshot\w*|txid_snapshot\w*)\b",
    re.IGNORECASE,
)

# Logging settings and the value each must have (None: not to be checked by value).
LOGGING_SETTINGS = (
    "log_statement",
    "log_min_duration_statement",
    "log_min_duration_sample",
    "log_transaction_sample_rate",
    "log_duration",
    "log_connections",
    "log_disconnections",
    "log_line_prefix",
    # Extensions that log statements, checked only when loaded.
    "auto_explain.log_min_duration",
    "pgaudit.log",
)
_OFF = {"off", "false", "no", "0", ""}

# The tables each arrival-order pass rewrites in one transaction (service/queries/arrivals.py).
WAVE_TABLES = ("responses", "spent_tokens", "token_issuances")
THREAD_TABLES = ("threads", "thread_messages", "thread_spent_tokens", "thread_token_issuances")
# What each check proves, in one line: English in the CLI's output and the stored result, and marked for
# translation so the privacy page can show it in the reader's language (:func:`for_reader`).
DESCRIPTIONS = {
    "commit-timestamps": N_("track_commit_timestamp is off (it would timestamp every anonymous row's transaction)"),
    "statement-logging": N_("statement, duration and connection logging are off and log lines carry no client "
                            "address"),
    "column-precision": N_("no column on anonymous or issuance tables is finer than allowed (a day; threads' staff "
                           "replies excepted)"),
    "ordered-defaults": N_("no sequence, identity, uuidv7 or clock-based default or trigger on anonymous or issuance "
                           "tables"),
    "arrival-order": N_("anonymous rows beyond the scrub window keep no arrival order (physical or transaction "
                        "order, alone or beside issuance order)"),
    "expired-sessions": N_("expired sessions are purged (none past its idle or absolute expiry by more than one "
                           "purge interval)"),
    "key-log": N_("the key log is whole: entries hash to their leaves, the signed head covers them all, one key per "
                  "wave and month, every key in use is logged"),
}
MIN_ORDER_ROWS = 20
ORDER_P_VALUE = 0.001
# Expired sessions may live until the next purge round (the app's purge job interval;
# the CLI takes --purge-interval-minutes), and session times are stored in 5-minute
# steps counted from their start (migration 0006), so a session looks up to one step older.
SESSION_PURGE_INTERVAL_MINUTES = max(1, PURGE_INTERVAL_SECONDS // 60)
SESSION_TIME_STEP_MINUTES = 5

EXIT_OK, EXIT_FAILED, EXIT_CONNECTION = 0, 1, 2


class Finding(msgspec.Struct, frozen=True):
    """One line of a check's details: an English template with named placeholders (marked for translation,
    like the descriptions) and its values. A value is a literal (a table, a setting, a number as the CLI writes
    it) or a finding of its own: a phrase in the reader's language too, or several joined by "; "."""

    text: str
    values: dict[str, str | Finding | list[Finding]] = msgspec.field(default_factory=dict)


def _finding(text: str, **values: str | int | Finding | list[Finding]) -> Finding:
    return Finding(text=text, values={name: str(v) if isinstance(v, int) else v for name, v in values.items()})


def render_finding(finding: Mapping[str, Any], gettext: Callable[[str], str]) -> str:
    """A finding (as stored: JSON builtins) written out, its template and phrases through ``gettext``."""
    def value(v: object) -> str:
        if isinstance(v, dict):
            return render_finding(cast("Mapping[str, Any]", v), gettext)
        if isinstance(v, list):
            return "; ".join(value(part) for part in cast("list[object]", v))
        return str(v)

    text = str(finding.get("text", ""))
    values = cast("Mapping[str, object]", finding.get("values") or {})
    return (gettext(text) if text else text).format(**{name: value(v) for name, v in values.items()})


class Check(msgspec.Struct, frozen=True):
    """One check's outcome: ``details`` in English (what the CLI prints), ``findings`` the same lines as
    templates and values, for a reader of another language."""

    id: str
    description: str
    ok: bool
    details: list[str]
    findings: list[Finding]


def _check(check_id: str, ok: bool, findings: list[Finding]) -> Check:
    english = [render_finding(msgspec.to_builtins(f), str) for f in findings]
    return Check(id=check_id, description=DESCRIPTIONS[check_id], ok=ok, details=english, findings=findings)


class AuditReport(msgspec.Struct, frozen=True):
    ok: bool
    checked_on: str  # YYYY-MM-DD: a day, like everything else near anonymous rows
    checks: list[Check]


@dataclass(frozen=True, slots=True)
class SessionLimits:
    idle_minutes: int
    absolute_hours: int
    purge_interval_minutes: int = SESSION_PURGE_INTERVAL_MINUTES


class AuditConnectionError(Exception):
    """The database could not be reached (exit status 2, not a failed check)."""


# The checks --------------------------------------------------------------------------


async def check_commit_timestamps(conn: asyncpg.Connection) -> Check:
    value = (await audit_q.select_settings(conn, names=["track_commit_timestamp"]))["track_commit_timestamp"]
    return _check("commit-timestamps", value == "off",
                  [_finding(N_("track_commit_timestamp = {value}"), value=str(value))])


def logging_problem(name: str, value: str | None) -> str | None:
    """Why ``name = value`` logs statements, connections or client addresses (an English phrase, marked for
    translation), or ``None``."""
    if value is None:
        return None  # an extension's setting where the extension is not loaded
    value = value.strip().strip("'\"").lower()
    if name == "log_statement":
        return None if value == "none" else N_("logs statements")
    if name in ("log_min_duration_statement", "log_min_duration_sample", "auto_explain.log_min_duration"):
        return None if value == "-1" else N_("logs statements by duration")
    if name == "log_transaction_sample_rate":
        try:
            return None if float(value) == 0 else N_("logs every statement of sampled transactions")
        except ValueError:
            return N_("not a number")
    if name == "log_line_prefix":
        return N_("puts the client address (%h/%r) in every log line") if re.search(r"%[hr]", value) else None
    if name == "pgaudit.log":
        return None if value in ("none", "") else N_("pgaudit logs statements")
    return None if value in _OFF else N_("logs connections or durations")


async def check_statement_logging(conn: asyncpg.Connection) -> Check:
    current = await audit_q.select_settings(conn, names=list(LOGGING_SETTINGS))
    findings: list[Finding] = []
    ok = True
    for name in LOGGING_SETTINGS:
        value = current[name]
        if value is None:
            continue
        problem = logging_problem(name, value)
        ok &= problem is None
        if problem:
            findings.append(_finding(N_("{name} = {value}: {problem}"), name=name, value=repr(value),
                                     problem=Finding(problem)))
        else:
            findings.append(_finding(N_("{name} = {value}"), name=name, value=repr(value)))
    for scope, entry in await audit_q.select_role_database_settings(conn):
        name, _, value = entry.partition("=")
        if name.lower() in LOGGING_SETTINGS and (problem := logging_problem(name.lower(), value)):
            ok = False
            findings.append(_finding(N_("{scope} sets {entry}: {problem} (applies at the next connection)"),
                                     scope=scope, entry=entry, problem=Finding(problem)))
    return _check("statement-logging", ok, findings)


async def check_column_precision(conn: asyncpg.Connection) -> Check:
    columns = await audit_q.select_columns(conn, tables=list(WATCHED_TABLES))
    present = {c.table for c in columns}
    findings = [_finding(N_("table {table} is missing: is this a Candor database?"), table=t)
                for t in WATCHED_TABLES if t not in present]
    for c in columns:
        kinds = set(c.component_types)
        column = {"column": f"{c.table}.{c.column}", "type": c.declared_type}
        if kinds & ORDER_TYPES:
            findings.append(_finding(N_("{column} ({type}) records a transaction or WAL position"), **column))
        elif kinds & TIME_TYPES:
            if (c.table, c.column) == STAFF_TIME:
                problem = await _staff_time_problem(conn)
                if problem:
                    findings.append(_finding(N_("{column} ({type}): {problem}"), **column, problem=problem))
            else:
                findings.append(_finding(N_("{column} ({type}) holds a time of day"), **column))
        elif "date" in kinds and (c.table, c.column) not in ALLOWED_DATES:
            findings.append(_finding(N_("{column} ({type}) holds a date, which the design does not allow here"),
                                     **column))
    ok = not findings
    if ok:
        findings.append(_finding(
            N_("{columns} columns on {tables} tables; dates only on {dates}; thread_messages.posted_at only on staff "
               "replies"),
            columns=len(columns), tables=len(present), dates=", ".join(f"{t}.{col}" for t, col in ALLOWED_DATES)))
    return _check("column-precision", ok, findings)


async def _staff_time_problem(conn: asyncpg.Connection) -> Finding | None:
    constraints = await audit_q.select_check_constraints(conn, table=STAFF_TIME[0])
    tied = any(
        re.search(r"not\s+from_staff", d, re.I) and re.search(r"posted_at\s+is\s+null", d, re.I) for d in constraints
    )
    if not tied:
        return _finding(N_("no check constraint keeps it null on author messages"))
    if count := await audit_q.count_author_messages_with_time(conn):
        return _finding(N_("{count} author messages carry a time"), count=count)
    return None


async def check_ordered_defaults(conn: asyncpg.Connection) -> Check:
    columns = await audit_q.select_columns(conn, tables=list(WATCHED_TABLES))
    findings: list[Finding] = []
    for c in columns:
        column = f"{c.table}.{c.column}"
        if c.identity:
            findings.append(_finding(N_("{column} is an identity column (a sequence)"), column=column))
        used = {m.group(1).lower() for m in ORDERED_EXPRESSION.finditer(c.default or "")}
        if used:
            tolerated = used == {"current_date"} and (c.table, c.column) in ALLOWED_DATES
            if not tolerated:
                text = N_("{column} generated as {default}") if c.generated else N_("{column} defaults to {default}")
                findings.append(_finding(text, column=column, default=str(c.default)))
    for t in await audit_q.select_triggers(conn, tables=list(WATCHED_TABLES)):
        if match := ORDERED_EXPRESSION.search(t.source):
            findings.append(_finding(N_("trigger {trigger} on {table} calls {function}(), which uses {call}"),
                                     trigger=t.trigger, table=t.table, function=t.function, call=match.group(1)))
    ok = not findings
    return _check("ordered-defaults", ok, findings or [
        _finding(N_("{columns} columns' defaults and the tables' triggers checked"), columns=len(columns))])


def _correlation(first: Sequence[float], second: Sequence[float]) -> tuple[float, float] | None:
    """Spearman's ρ and its two-sided p-value, or ``None`` when a side has a single value."""
    from scipy.stats import spearmanr

    if len(set(first)) < 2 or len(set(second)) < 2:
        return None
    result = spearmanr(first, second)
    return float(result.statistic), float(result.pvalue)


def order_findings(
    label: str | Finding, rows: Sequence[audit_q.OrderSample], issuance_ages: Sequence[int]
) -> tuple[bool, list[Finding]]:
    """Whether ``rows`` (one group's anonymous rows) show an arrival order; and the parts of a report line.

    Computed over the given rows (see :func:`check_arrival_order` for which):

    - *transaction order*: rank of ``-age(xmin)`` (older transactions first; rows written
      by one transaction tie). ``age`` is read in one snapshot, so equal ages mean the
      same transaction;
    - *physical order*: rank of ``ctid`` (block, then item);
    - ρ₁ = Spearman(physical order, transaction order) over the rows;
    - ρ₂: the group's issuance rows (``token_issuances`` of the wave, or all
      ``thread_token_issuances``) and the rows are put on one transaction timeline
      (average ranks of ``-age(xmin)`` over both). With k = min(#issuances, #rows), the
      i-th issuance in that order is paired with the i-th row in that order, counting
      back from the newest (the k newest of each: rows not yet rewritten are the newest),
      and ρ₂ = Spearman(issuance timeline ranks, row timeline ranks) over the k pairs.
      Both sides are sorted, so ρ₂ is near 1 whenever the rows were written by distinct
      transactions spread along the issuance timeline (each response after its token:
      the order an insider would pair them in), and undefined when the rows share one
      transaction (a pass rewrote them together).

    The test runs only when the rows were written by at least ``MIN_ORDER_ROWS`` (20)
    distinct transactions (and k ≥ 20 for ρ₂): fewer transactions hold too little order
    to test. Order is shown when either ρ has p < 0.001 (``scipy.stats.spearmanr``,
    two-sided). A correlation that is undefined (a side with one value) is no order.

    Limits: the database keeps no arrival time, so nothing can see an order kept *inside*
    one transaction's rows (a pass that rewrote rows without shuffling them).
    """
    n = len(rows)
    transactions = len({r.age for r in rows})
    if transactions < MIN_ORDER_ROWS:
        few = (_finding(N_("{label}: no rows: too few transactions to carry an order (the test needs {needed})"),
                        label=label, needed=MIN_ORDER_ROWS) if n == 0 else
               _finding(N_("{label}: {n} rows written by {transactions} transaction(s): too few transactions to "
                           "carry an order (the test needs {needed})"),
                        label=label, n=n, transactions=transactions, needed=MIN_ORDER_ROWS))
        return False, [few]
    ordered_rows = False
    parts = [_finding(N_("{label}: {n} rows in {transactions} transactions"), label=label, n=n,
                      transactions=transactions)]
    by_position = sorted(range(n), key=lambda i: (rows[i].block, rows[i].item))
    physical = [0] * n
    for position, i in enumerate(by_position):
        physical[i] = position
    transaction = [-r.age for r in rows]
    physical_vs_transaction = _correlation(physical, transaction)
    if physical_vs_transaction is None:
        parts.append(_finding(N_("physical~transaction order: undefined (one transaction)")))
    else:
        rho, p = physical_vs_transaction
        ordered_rows |= p < ORDER_P_VALUE
        parts.append(_finding(N_("physical~transaction order rho={rho} p={p}"), rho=f"{rho:.3f}", p=f"{p:.2g}"))
    k = min(n, len(issuance_ages))
    if k < MIN_ORDER_ROWS:
        parts.append(_finding(N_("vs issuance: {issuances} issuances, too few to pair"), issuances=len(issuance_ages)))
    else:
        from scipy.stats import rankdata

        timeline = rankdata([-a for a in issuance_ages] + transaction)
        issued = sorted(timeline[: len(issuance_ages)])[-k:]
        arrived = sorted(timeline[len(issuance_ages):])[-k:]
        paired = _correlation(issued, arrived)
        if paired is None:
            parts.append(_finding(N_("vs issuance order: undefined (the rows share one transaction)")))
        else:
            rho, p = paired
            ordered_rows |= p < ORDER_P_VALUE
            parts.append(_finding(N_("vs issuance order rho={rho} p={p} over {k} pairs"), rho=f"{rho:.3f}",
                                  p=f"{p:.2g}", k=k))
    return ordered_rows, parts


def skipped_rows(samples: Sequence[audit_q.OrderSample]) -> int:
    """Rows not rewritten although at least two arrival-order passes ran after them.

    A pass is one transaction (service/scrub.py), so the distinct ``xmin`` of rewritten
    rows across a table group are its passes. A row written by a transaction that was
    still running when one pass started may miss that pass, never two."""
    passes = sorted({s.age for s in samples if s.scrubbed})
    # A pass newer than the row has a smaller age.
    return sum(1 for s in samples if s.scrubbed is False and bisect.bisect_left(passes, s.age) >= 2)


async def check_arrival_order(conn: asyncpg.Connection) -> Check:
    """Which rows are examined, per group (one wave's responses, one wave's spent tokens;
    all threads, all author messages, all spent thread tokens):

    - a table without a ``scrubbed`` column (a schema before migration 0006): every row,
      and an order (:func:`order_findings`) fails the check;
    - a closed wave: every row, and an order fails (closing rewrites the whole wave in
      one transaction, so nothing of its arrival order may remain);
    - an open wave: the rows a pass rewrote, and an order fails. A pass rewrites every
      wave that received rows *whole*, in one transaction (service/queries/arrivals.py),
      so a wave's rewritten rows share one transaction: several transactions among them
      mean a pass rewrote only the newcomers, leaving each window's rows in the order of
      the windows — arrival order older than the window;
    - the threads: the rows a pass rewrote. A pass rewrites a thread *day* (a token
      *month*) whole, and the day is stored anyway, so order between days is public:
      their correlations are reported, not failed.

    In every group, a row that two or more later passes left unrewritten
    (:func:`skipped_rows`) fails the check: arrival order older than the window.
    """
    present = await audit_q.select_tables(conn, tables=list(WATCHED_TABLES))
    missing = [t for t in WATCHED_TABLES if t not in present]
    if missing:
        return _check("arrival-order", False, [_finding(N_("table {table} is missing"), table=t) for t in missing])
    statuses = await audit_q.select_wave_statuses(conn)
    samples: dict[str, list[audit_q.OrderSample]] = {}
    for table in WATCHED_TABLES:
        flagged = await audit_q.has_column(conn, table=table, column="scrubbed")
        samples[table] = await audit_q.select_order_samples(conn, table=table, with_flag=flagged)
    findings: list[Finding] = []
    ok = True
    for tables in (WAVE_TABLES, THREAD_TABLES):
        group_samples = [s for t in tables for s in samples[t]]
        if skipped := skipped_rows(group_samples):
            ok = False
            findings.append(_finding(N_("ORDER KEPT: {rows} rows of {tables} were left in arrival order by two or "
                                        "more later arrival-order passes"), rows=skipped, tables=", ".join(tables)))
    for table in ANONYMOUS_TABLES:
        issuance_table = "thread_token_issuances" if table.startswith("thread") else "token_issuances"
        issuances: dict[str, list[int]] = defaultdict(list)
        for s in samples[issuance_table]:
            issuances[s.group].append(s.age)
        groups: dict[str, list[audit_q.OrderSample]] = defaultdict(list)
        for s in samples[table]:
            groups[s.group].append(s)
        for group, rows in sorted(groups.items()):
            unflagged = rows[0].scrubbed is None
            strict = unflagged or group != "threads"
            examined = rows if unflagged or statuses.get(group) == "closed" else [r for r in rows if r.scrubbed]
            label = table if group == "threads" else _wave_label(table, statuses.get(group, "?"), group)
            ordered, line = order_findings(label, examined, issuances.get(group, []))
            if ordered and strict:
                ok = False
                findings.append(_finding(N_("ORDER KEPT: {line}"), line=line))
            elif ordered:
                findings.append(_finding(N_("{line} (order between days, which threads show anyway)"), line=line))
            elif len({r.age for r in examined}) >= MIN_ORDER_ROWS:
                findings.append(_finding("{line}", line=line))
    if not findings:
        findings.append(_finding(N_("no group holds arrival order beyond the scrub window")))
    return _check("arrival-order", ok, findings)


def _wave_label(table: str, status: str, wave: str) -> Finding:
    # One whole phrase per status a wave with rows can have; another status is named as stored.
    if status == "closed":
        return _finding(N_("{table} of closed wave {wave}"), table=table, wave=wave)
    if status == "open":
        return _finding(N_("{table} of open wave {wave}"), table=table, wave=wave)
    return _finding(N_("{table} of {status} wave {wave}"), table=table, status=status, wave=wave)


async def check_expired_sessions(conn: asyncpg.Connection, limits: SessionLimits) -> Check:
    try:
        expired = await audit_q.count_expired_sessions(
            conn,
            idle_minutes=limits.idle_minutes,
            absolute_hours=limits.absolute_hours,
            grace_minutes=limits.purge_interval_minutes + SESSION_TIME_STEP_MINUTES,
        )
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError) as exc:
        return _check("expired-sessions", False, [_finding(N_("cannot read sessions' expiry: {error}"),
                                                           error=str(exc))])
    return _check("expired-sessions", expired == 0, [_finding(
        N_("{expired} expired sessions kept (limits: idle {idle} min, absolute {absolute} h, purge interval "
           "{purge} min)"),
        expired=expired, idle=limits.idle_minutes, absolute=limits.absolute_hours,
        purge=limits.purge_interval_minutes)])


async def check_key_log(conn: asyncpg.Connection) -> Check:
    """The key transparency log holds together (invariant 8): every stored entry hashes to
    its leaf, the latest signed head covers every entry with the root recomputed here and
    a valid signature by the log's key, each wave and month has one key, and every opened
    wave's and thread month's key is in the log."""
    try:
        public = await transparency_q.select_log_key(conn)
        head = await transparency_q.select_latest_head(conn)
        stored = await transparency_q.select_leaf_hashes(conn)
        entries = await transparency_q.select_entries(conn, start=0, end=len(stored))
        unlogged = await transparency_q.select_unlogged_keys(conn)
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError) as exc:
        return _check("key-log", False, [_finding(N_("cannot read the key log: {error}"), error=str(exc))])
    not_logged = [_finding(N_("{kind} {owner} uses a key that is not in the log"), kind=k.kind,
                           owner=str(k.campaign_id or k.period)) for k in unlogged]
    if public is None or head is None:
        # A database the service has never started on: fine while no key is in use.
        return _check("key-log", not not_logged and not stored, not_logged or [
            _finding(N_("no key in use and no log yet (the service has not started once)"))])
    problems: list[Finding] = []
    owners: dict[tuple[str, str], int] = defaultdict(int)
    for index, (raw, leaf) in enumerate(zip(entries, stored, strict=True)):
        if ct.leaf_hash(raw) != leaf:
            problems.append(_finding(N_("entry {index} does not hash to its stored leaf (changed after it was "
                                        "logged)"), index=index))
        try:
            entry = ct.LogEntry.from_json(msgspec.json.decode(raw))
        except (ct.TransparencyError, msgspec.DecodeError) as exc:
            problems.append(_finding(N_("entry {index} is not a valid entry: {error}"), index=index, error=str(exc)))
            continue
        owners[(entry.kind, entry.id)] += 1
    problems += [_finding(N_("{kind} {owner} has {count} keys in the log"), kind=kind, owner=owner, count=count)
                 for (kind, owner), count in owners.items() if count > 1]
    if head.tree_size != len(stored):
        problems.append(_finding(N_("the latest signed head covers {size} entries, the log holds {stored}"),
                                 size=head.tree_size, stored=len(stored)))
    elif ct.merkle_root(stored) != head.root_hash:
        problems.append(_finding(N_("the latest signed head's root is not the root of the stored entries")))
    try:
        ct.verify_tree_head(public.public_key, ct.SignedTreeHead(tree_size=head.tree_size, root_hash=head.root_hash,
                                                                 issued_on=head.issued_on, signature=head.signature))
    except ct.TransparencyError as exc:
        problems.append(_finding(N_("the latest head's signature does not verify with the log key: {error}"),
                                 error=str(exc)))
    problems += not_logged
    return _check("key-log", not problems, problems or [
        _finding(N_("{count} keys logged; head of {day} verifies"), count=len(stored),
                 day=head.issued_on.isoformat())])


# Running it ---------------------------------------------------------------------------


async def connect_read_only(database_url: str, *, timeout: int = 10) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(
            database_url,
            timeout=timeout,
            server_settings={"default_transaction_read_only": "on", "application_name": "candor-audit"},
        )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as exc:
        raise AuditConnectionError(str(exc) or type(exc).__name__) from exc


async def run_checks(conn: asyncpg.Connection, limits: SessionLimits) -> AuditReport:
    """Every check, in one read-only repeatable-read transaction (one consistent snapshot)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        checks = [
            await check_commit_timestamps(conn),
            await check_statement_logging(conn),
            await check_column_precision(conn),
            await check_ordered_defaults(conn),
            await check_arrival_order(conn),
            await check_expired_sessions(conn, limits),
            await check_key_log(conn),
        ]
    return AuditReport(
        ok=all(c.ok for c in checks), checked_on=datetime.now(UTC).date().isoformat(), checks=checks
    )


async def audit_database(database_url: str, limits: SessionLimits) -> AuditReport:
    conn = await connect_read_only(database_url)
    try:
        return await run_checks(conn, limits)
    except (OSError, asyncpg.InterfaceError, asyncpg.exceptions.PostgresConnectionError) as exc:
        raise AuditConnectionError(str(exc) or type(exc).__name__) from exc
    finally:
        await conn.close()


def render_text(report: AuditReport) -> str:
    passed = sum(c.ok for c in report.checks)
    lines = [f"candor audit {report.checked_on}: {passed}/{len(report.checks)} checks passed"]
    for c in report.checks:
        lines.append(f"{'PASS' if c.ok else 'FAIL'} {c.id} — {c.description}")
        lines.extend(f"    {d}" for d in c.details)
    return "\n".join(lines)


def summary_line(report: AuditReport) -> str:
    passed = sum(c.ok for c in report.checks)
    line = f"candor audit: {passed}/{len(report.checks)} checks passed"
    failed = [c.id for c in report.checks if not c.ok]
    return line + (f"; failed: {', '.join(failed)}" if failed else "")


def session_limits(env: Mapping[str, str], args: argparse.Namespace) -> SessionLimits:
    """The CLI's options, else the app's settings from the environment (secrets not needed)."""
    settings = Settings.from_env({k: v for k, v in env.items() if k != "CANDOR_ENV"})
    return SessionLimits(
        idle_minutes=args.session_idle_minutes or settings.session_idle_minutes,
        absolute_hours=args.session_absolute_hours or settings.session_absolute_hours,
        purge_interval_minutes=args.purge_interval_minutes,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--session-idle-minutes", type=int, help="default: CANDOR_SESSION_IDLE_MINUTES or 30")
    parser.add_argument("--session-absolute-hours", type=int, help="default: CANDOR_SESSION_ABSOLUTE_HOURS or 12")
    parser.add_argument("--purge-interval-minutes", type=int, default=SESSION_PURGE_INTERVAL_MINUTES,
                        help="slack for sessions awaiting the next purge (default: %(default)s)")


def audit_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Run the audit for ``candor audit``; 0 all pass, 1 a check failed, 2 no connection."""
    database_url = env.get("DATABASE_URL")
    if not database_url:
        print("candor audit: DATABASE_URL is not set", file=sys.stderr)
        return EXIT_CONNECTION
    try:
        limits = session_limits(env, args)
    except SettingsError as exc:
        print(f"candor audit: {exc}", file=sys.stderr)
        return EXIT_CONNECTION
    try:
        report = asyncio.run(audit_database(database_url, limits))
    except AuditConnectionError as exc:
        print(f"candor audit: cannot connect to the database: {exc}", file=sys.stderr)
        return EXIT_CONNECTION
    if args.format == "json":
        print(msgspec.json.encode(report).decode())
    else:
        print(render_text(report))
    return EXIT_OK if report.ok else EXIT_FAILED


async def store_result(conn: asyncpg.Connection, report: AuditReport) -> None:
    await audit_q.upsert_audit_result(
        conn, checked_on=date.fromisoformat(report.checked_on), ok=report.ok, result=msgspec.to_builtins(report)
    )


def for_reader(stored: audit_q.AuditResult | None, gettext: Callable[[str], str]) -> audit_q.AuditResult | None:
    """The stored latest result as the privacy page shows it: each check's description and findings in the
    reader's language (``lines``).

    The stored result keeps the English text (what the CLI prints); a description this version does not know, and
    the details of a result stored before findings were kept, are shown as they were stored.
    """
    if stored is None:
        return None
    checks = [{**check, "description": gettext(text) if (text := check.get("description")) else text,
               "lines": [render_finding(f, gettext) for f in check["findings"]] if "findings" in check
               else list(check.get("details", []))}
              for check in stored.result.get("checks", [])]
    return msgspec.structs.replace(stored, result={**stored.result, "checks": checks})


async def startup_audit(settings: Settings) -> AuditReport | None:
    """Audit at start-up, store the result for the privacy page, log one line.

    Never stops the service: an audit that cannot run is logged and start-up goes on.
    """
    if not settings.database_url:
        raise ValueError("startup_audit needs settings.database_url")
    limits = SessionLimits(settings.session_idle_minutes, settings.session_absolute_hours)
    try:
        report = await audit_database(settings.database_url, limits)
        conn = await asyncpg.connect(settings.database_url)
        try:
            await store_result(conn, report)
        finally:
            await conn.close()
    except Exception as exc:  # noqa: BLE001 - the audit informs; it must not block serving
        log.warning("candor audit: could not run (%s)", type(exc).__name__)
        return None
    (log.info if report.ok else log.warning)(summary_line(report))
    return report
