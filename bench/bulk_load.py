"""Load generated rows fast through the project's own database driver.

PostgreSQL gets ``COPY ... FROM STDIN`` through psycopg's copy support;
SQLite gets ``executemany`` in batches. Each table loads in one
transaction. Rows carry their ids, so a generator can refer to rows it has
not read back; ``reset_sequences`` then moves PostgreSQL's id sequences
past them.
"""

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models.fields import NOT_PROVIDED

BATCH = 10_000

Row = tuple[Any, ...]


def _converters(
    model: type[models.Model], columns: Sequence[str]
) -> list[Callable[[Any], Any] | None]:
    """Return, per column, how to turn a Python value into what the driver takes.

    psycopg adapts datetimes itself. SQLite stores them as the text Django
    writes (naive UTC), so they go through the adapter the ORM uses. Other
    text would compare and sort differently from rows the ORM wrote.
    """
    by_column = {field.column: field for field in model._meta.concrete_fields}
    converters: list[Callable[[Any], Any] | None] = []
    for column in columns:
        field = by_column[column]
        if connection.vendor == "sqlite" and isinstance(field, models.DateTimeField):
            converters.append(connection.ops.adapt_datetimefield_value)
        else:
            converters.append(None)
    return converters


def _adapted(
    rows: Iterable[Row], converters: list[Callable[[Any], Any] | None]
) -> Iterable[Row]:
    if all(converter is None for converter in converters):
        yield from rows
        return
    for row in rows:
        yield tuple(
            value if convert is None or value is None else convert(value)
            for value, convert in zip(row, converters, strict=True)
        )


def _defaults(
    model: type[models.Model], columns: Sequence[str], moment: datetime
) -> tuple[list[str], Row]:
    """Return the model's other columns and the value each row gets there.

    Columns the generator does not name (a field another change added) get
    the field's default, so the load keeps working as the models grow.
    Timestamps set on save get ``moment``.
    """
    names: list[str] = []
    values: list[Any] = []
    for field in model._meta.concrete_fields:
        named = field.column in columns or field.primary_key
        # A database default (or a trigger) fills such a column itself.
        if named or field.db_default is not NOT_PROVIDED:
            continue
        value = field.get_default()
        if field.unique and value is not None:
            # Every row would get the same value, so the second row would fail.
            raise ValueError(
                f"Column {field.column!r} of {model._meta.db_table} is unique "
                "and has no database default: name it in the generator's "
                "columns and give each row its value."
            )
        auto = getattr(field, "auto_now", False) or getattr(
            field, "auto_now_add", False
        )
        if auto:
            value = moment
        names.append(str(field.column))
        values.append(value if auto else field.get_db_prep_save(value, connection))
    return names, tuple(values)


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    moment: datetime,
) -> int:
    """Insert ``rows`` (values in ``columns`` order) in one transaction.

    Return the number of rows inserted.
    """
    extra_columns, extra_values = _defaults(model, columns, moment)
    all_columns = [*columns, *extra_columns]
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in all_columns)
    if extra_columns:
        rows = (row + extra_values for row in rows)
    prepared = _adapted(rows, _converters(model, all_columns))
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A row maker may query before its first row, and COPY keeps the
            # connection busy until it ends, so the first row is drawn before.
            rows_left = iter(prepared)
            first = next(rows_left, None)
            if first is None:
                return 0
            # The Django cursor wraps psycopg's, which has the copy API.
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in itertools.chain([first], rows_left):
                    copy.write_row(row)
                    count += 1
        else:
            placeholders = ", ".join(["%s"] * len(all_columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608
            for batch in itertools.batched(prepared, BATCH):
                cursor.executemany(sql, batch)
                count += len(batch)
    return count


def reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """Move PostgreSQL's id sequences past the ids the load wrote itself."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def analyze(model_list: Sequence[type[models.Model]]) -> None:
    """Refresh the planner statistics of the loaded tables.

    Right after a bulk load PostgreSQL still plans for nearly empty tables.
    SQLite's ANALYZE fills ``sqlite_stat1``, which its planner reads too.
    """
    tables = [connection.ops.quote_name(m._meta.db_table) for m in model_list]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(tables))
        else:
            for table in tables:
                cursor.execute("ANALYZE " + table)


class Timer:
    """Collect how long each step took, for the generator's report."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, int, float]] = []
        self._started = time.perf_counter()

    def step(self, label: str, count: int, started: float) -> None:
        self.steps.append((label, count, time.perf_counter() - started))

    @property
    def total(self) -> float:
        return time.perf_counter() - self._started
