"""Many rows in one statement: an insert, or an update of one column by primary key.

SQLite gets an executemany (each row is a cheap call in the same process). PostgreSQL gets one
statement, not a statement per row: a close writes 400,000 lines and 200,000 entries, and a
statement per row cost a round of parsing, executing and statement triggers each (the ledger's
balance triggers fire once per statement). Inserts are a COPY, whose rows psycopg formats in C;
an update joins arrays (`unnest`) of ids and values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, columns: Sequence[str],
                rows: Sequence[tuple[Any, ...]]) -> None:
    """INSERT every row (tuples in `columns` order) into `table`."""
    if not rows:
        return
    conn = session.connection()
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        _copy(session, f"COPY {table.name} ({names}) FROM STDIN", rows)
        return
    marks = ", ".join(["?"] * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", list(rows))


def update_by_id(session: Session, table: Table, column: str,
                 values: Sequence[tuple[Any, int]]) -> None:
    """SET `column` to each pair's value on the row whose `id` is the pair's second item."""
    if not values:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        _execute_binary(
            session, f"UPDATE {table.name} AS t SET {column} = v.value FROM unnest("
            f"{_arrays(session, table, (column, 'id'))}) AS v(value, id) WHERE t.id = v.id",
            _columns_of(values, 2))
        return
    conn.exec_driver_sql(f"UPDATE {table.name} SET {column} = ? WHERE id = ?", list(values))


def _execute_binary(session: Session, sql: str, params: tuple[list[Any], ...]) -> None:
    """Run on the session's own connection (its transaction) with binary parameters: psycopg
    writes a text array element by element, quoting each string, a third of the statement."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor(binary=True) as cursor:
        cursor.execute(sql, params)


def _copy(session: Session, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """COPY the rows in on the session's own connection: psycopg formats each row in C, where
    an array parameter is built element by element in Python (half of a close's time on
    PostgreSQL). COPY fires the tables' triggers and checks their constraints as INSERT does."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _arrays(session: Session, table: Table, columns: Sequence[str]) -> str:
    """One typed array parameter per column (`%s::bigint[], %s::varchar(3)[], …`)."""
    dialect = session.connection().dialect
    return ", ".join(f"%s::{table.c[name].type.compile(dialect)}[]" for name in columns)


def _columns_of(rows: Sequence[tuple[Any, ...]], width: int) -> tuple[list[Any], ...]:
    columns = tuple(list(column) for column in zip(*rows, strict=True))
    assert len(columns) == width, "every row has one value per column"
    return columns
