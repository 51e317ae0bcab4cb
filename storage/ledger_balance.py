"""PostgreSQL's balance check: every journal entry a transaction touched, checked once at commit.

The rule is the ledger's (debits = credits = the entry's total, every line in the entry's
currency, no line without its entry). Until migration 0016 a deferred row trigger on both
tables checked the entry at commit once per entry and once per line: a close of 200,000
entries ran 600,000 checks and spent most of its time there. Now statement triggers on both
tables (transition tables: one firing per statement, however many rows) queue the ids of the
entries a statement inserted, updated or deleted, old and new, in `ledger_unchecked_entries`,
and mark the transaction in `ledger_balance_checks`; that mark's deferred constraint trigger
fires once, at commit, and checks every queued entry in one query. A transaction can't commit
an unbalanced entry however its lines were written, moved or removed.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Table
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base

# Entries touched by the open transaction, not yet checked; empty once it commits. No key and
# no index: an id may be queued more than once (the check reads them distinct), and a plain
# append is the cheapest write a statement trigger can make.
unchecked_entries = Table(
    "ledger_unchecked_entries", Base.metadata, Column("entry_id", BigInteger, nullable=False))


class LedgerBalanceCheck(Base):
    """One row per transaction with entries queued; its deferred trigger runs the check."""

    __tablename__ = "ledger_balance_checks"
    txid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


_QUEUE = """
CREATE OR REPLACE FUNCTION ledger_queue_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Transition tables: `touched` is the statement's new rows (INSERT, UPDATE) and `removed`
    -- its old rows (UPDATE, DELETE); an update that moves a line queues both entries.
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF TG_TABLE_NAME = 'ledger_journal_lines' THEN
            INSERT INTO ledger_unchecked_entries (entry_id)
                SELECT DISTINCT entry_id FROM touched;
        ELSE
            INSERT INTO ledger_unchecked_entries (entry_id)
                SELECT id FROM touched;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF TG_TABLE_NAME = 'ledger_journal_lines' THEN
            INSERT INTO ledger_unchecked_entries (entry_id)
                SELECT entry_id FROM removed;
        ELSE
            INSERT INTO ledger_unchecked_entries (entry_id)
                SELECT id FROM removed;
        END IF;
    END IF;
    -- Once per transaction (the check deletes the mark, so a later statement marks again).
    INSERT INTO ledger_balance_checks (txid) VALUES (txid_current()) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$"""

_CHECK = """
CREATE OR REPLACE FUNCTION ledger_check_queued() RETURNS trigger LANGUAGE plpgsql
-- A close queues 200,000 entries: with the default 4 MB the distinct ids and the join spill to
-- disk (a check of 200,000 entries took 1.7-2.1 s; in memory, 1.5 s).
SET work_mem = '64MB' AS $$
DECLARE
    bad record;
BEGIN
    DELETE FROM ledger_balance_checks WHERE txid = NEW.txid;
    -- Every queued entry in one pass over its lines (the `entry_id` index); an id with lines
    -- but no entry is refused too.
    WITH taken AS (DELETE FROM ledger_unchecked_entries RETURNING entry_id),
    queued AS (SELECT DISTINCT entry_id FROM taken)
    SELECT q.entry_id, COALESCE(SUM(l.debit_minor), 0) AS dr,
           COALESCE(SUM(l.credit_minor), 0) AS cr, e.total_minor
      INTO bad
      FROM queued q
      LEFT JOIN ledger_journal_entries e ON e.id = q.entry_id
      LEFT JOIN ledger_journal_lines l ON l.entry_id = q.entry_id
     GROUP BY q.entry_id, e.id
    HAVING CASE WHEN e.id IS NULL THEN COUNT(l.entry_id) > 0
           ELSE COALESCE(SUM(l.debit_minor), 0) <> e.total_minor
                OR COALESCE(SUM(l.credit_minor), 0) <> e.total_minor
                OR COALESCE(bool_or(l.currency <> e.currency), false) END
     ORDER BY q.entry_id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger: journal entry % is unbalanced (debits %, credits %, total %)',
            bad.entry_id, bad.dr, bad.cr, bad.total_minor USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$"""

_TABLES = ("ledger_journal_entries", "ledger_journal_lines")
_EVENTS = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}


def _queue_triggers() -> list[str]:
    # A trigger with transition tables may name one event only: three per table.
    stmts = []
    for table in _TABLES:
        for name, event in _EVENTS.items():
            refs = {"insert": "NEW TABLE AS touched",
                    "update": "OLD TABLE AS removed NEW TABLE AS touched",
                    "delete": "OLD TABLE AS removed"}[name]
            stmts.append(
                f"CREATE TRIGGER {table}_queue_{name} AFTER {event} ON {table} "
                f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION ledger_queue_check()")
    return stmts


PG_BALANCE = [
    _QUEUE,
    _CHECK,
    *_queue_triggers(),
    "CREATE CONSTRAINT TRIGGER ledger_balance_checks_run AFTER INSERT ON ledger_balance_checks "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_queued()",
]
PG_BALANCE_DROP = [
    *(f"DROP TRIGGER IF EXISTS {table}_queue_{name} ON {table}"
      for table in _TABLES for name in _EVENTS),
    "DROP TRIGGER IF EXISTS ledger_balance_checks_run ON ledger_balance_checks",
    "DROP FUNCTION IF EXISTS ledger_check_queued()",
    "DROP FUNCTION IF EXISTS ledger_queue_check()",
]

# Before 0016: a deferred row trigger per table, one check per entry and per line at commit.
PG_ROW_BALANCED = """
CREATE OR REPLACE FUNCTION ledger_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    eid bigint;
    e record;
    dr numeric;
    cr numeric;
    mixed boolean;
BEGIN
    IF TG_TABLE_NAME = 'ledger_journal_lines' THEN eid := NEW.entry_id; ELSE eid := NEW.id; END IF;
    SELECT total_minor, currency INTO e FROM ledger_journal_entries WHERE id = eid;
    SELECT COALESCE(SUM(debit_minor), 0), COALESCE(SUM(credit_minor), 0),
           COALESCE(bool_or(currency <> e.currency), false)
      INTO dr, cr, mixed FROM ledger_journal_lines WHERE entry_id = eid;
    IF e.total_minor IS NULL OR dr <> cr OR dr <> e.total_minor OR mixed THEN
        RAISE EXCEPTION 'ledger: journal entry % is unbalanced (debits %, credits %, total %)',
            eid, dr, cr, e.total_minor USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$"""


def pg_row_balance_triggers() -> list[str]:
    return [
        f"CREATE CONSTRAINT TRIGGER {table}_balanced AFTER INSERT ON {table} "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_entry_balanced()"
        for table in _TABLES
    ]
