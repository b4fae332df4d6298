"""Bulk writes through the ORM's field conversions: UPDATE from arrays, INSERT, COPY.

``save_fields`` and ``insert_values`` write many rows in a few statements and
convert each value as the field would. On PostgreSQL, from ``COPY_MIN_ROWS``
rows on, inserts are loaded with COPY. Each statement run on the driver's
cursor is logged as Django logs its own, so query counts in tests see it.
"""

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.utils import timezone


def save_fields(objects: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of each object: one UPDATE per row, or one for all rows.

    ``bulk_update`` builds a CASE expression per field and row. For the 4,589
    rows of the demo load on SQLite it took 2.0 seconds, against 0.03 seconds
    for one UPDATE run per row (one timed run each on a developer laptop).
    SQLite runs that statement per row in this process, and PostgreSQL
    gets one statement for all the rows (``_update_from_arrays``).
    """
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    pk_column = meta.pk.column if meta.pk is not None else None
    columns: list[tuple[models.Field[Any, Any], str]] = []
    for name in fields:
        column = meta.get_field(name)
        if not isinstance(column, models.Field) or not column.column or not pk_column:
            raise ValueError(f"{name} is not a column of {meta.label}.")
        columns.append((column, column.column))

    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(name)} = %s" for _, name in columns)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 (names from the model)
        f"WHERE {quote(pk_column or '')} = %s"
    )
    rows = [
        [
            column.get_db_prep_save(getattr(instance, column.attname), connection)
            for column, _ in columns
        ]
        + [instance.pk]
        for instance in objects
    ]
    if len(rows) > 1 and connection.vendor == "postgresql":
        _update_from_arrays(connection, meta, columns, rows)
        return
    with connection.cursor() as cursor:
        # The single row of a refresh is sent as one plain statement.
        if len(rows) == 1:
            cursor.execute(sql, rows[0])
        else:
            cursor.executemany(sql, rows)


def _update_from_arrays(
    connection: Any,
    meta: Any,
    columns: list[tuple["models.Field[Any, Any]", str]],
    rows: list[list[Any]],
) -> None:
    """Write ``rows`` (the values of ``columns``, then the id) in one UPDATE.

    Each column travels as one array and ``unnest`` turns the arrays back
    into rows. Run once per row, as ``executemany`` does, the UPDATE of the
    matching pass's 100,000 orders kept PostgreSQL busy for 3.6 s, against
    about 0.3 s for one statement per 2,000 orders. When an object appears
    twice its last values are written, as one statement per row would leave.
    """
    quote = connection.ops.quote_name
    last = {row[-1]: row for row in rows}
    names = [f"c{position}" for position in range(len(columns))]
    arrays = ", ".join(
        f"CAST(%s AS {field.db_type(connection)}[])" for field, _ in columns
    )
    assignments = ", ".join(
        f"{quote(column)} = given.{name}"
        for (_, column), name in zip(columns, names, strict=True)
    )
    pk = meta.pk
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 (names from the model)
        f"FROM unnest({arrays}, CAST(%s AS {pk.db_type(connection)}[])) "
        f"AS given({', '.join(names)}, id) "
        f"WHERE {quote(meta.db_table)}.{quote(pk.column)} = given.id"
    )
    params = [list(values) for values in zip(*last.values(), strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


PLAIN_COLUMNS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


def insert_rows(objects: Sequence[models.Model]) -> None:
    """Insert new objects with multi-row INSERT ... RETURNING and set their ids.

    It writes what ``bulk_create`` writes (each concrete column's value after
    ``pre_save``, so ``auto_now`` times are set), without building an SQL
    expression per value. For the 28,000 match groups and audit events of a
    2,000-order pass on SQLite ``bulk_create`` spent 12 of the pass's 22
    seconds in compiling its statements (under cProfile).
    """
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    columns = _insert_columns(model)
    # Text, integer and key columns go to the driver as they are; the others
    # (times, decimals, JSON) through the field, as ``bulk_create`` does.
    prepared = [(column, isinstance(column, PLAIN_COLUMNS)) for column in columns]
    rows = []
    for instance in objects:
        row: list[Any] = []
        for column, plain in prepared:
            if plain:
                row.append(getattr(instance, column.attname))
            else:
                value = column.pre_save(instance, True)
                row.append(column.get_db_prep_save(value, connection))
        rows.append(row)
    ids = _insert_prepared(model, columns, rows)
    for instance, pk_value in zip(objects, ids, strict=True):
        setattr(instance, meta.pk.attname if meta.pk else "id", pk_value)
        instance._state.adding = False
        instance._state.db = connection.alias


def insert_values(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    returning: bool = True,
) -> list[int]:
    """Insert rows given as ``{attname: value}`` without model instances.

    Return the new ids in the order of ``rows``, or none when ``returning``
    is false, which saves PostgreSQL a query for them. A column a row leaves out
    gets the field's default, and an ``auto_now`` or ``auto_now_add`` time
    gets one time for the whole call. Every row must name the same columns.
    The matching pass writes its match groups and audit events this way,
    tens of thousands per chunk, without a model instance for each.
    """
    if not rows:
        return []
    connection = connections[router.db_for_write(model)]
    columns = _insert_columns(model)
    now = timezone.now()
    named = rows[0].keys()
    plan: list[tuple[str, Any, Any]] = []
    for column in columns:
        if column.attname in named:
            adapter = (
                None
                if isinstance(column, PLAIN_COLUMNS)
                else _column_adapter(column, connection)
            )
            plan.append((column.attname, adapter, None))
            continue
        auto_time = getattr(column, "auto_now", False) or getattr(
            column, "auto_now_add", False
        )
        default = now if auto_time else column.get_default()
        plan.append(("", None, column.get_db_prep_save(default, connection)))
    prepared = []
    for row in rows:
        values: list[Any] = []
        for attname, adapter, default in plan:
            if not attname:
                values.append(default)
            elif adapter is None:
                values.append(row[attname])
            else:
                values.append(adapter(row[attname]))
        prepared.append(values)
    return _insert_prepared(model, columns, prepared, returning=returning)


class JsonText(str):
    """A JSON column's value already encoded with ``json.dumps``.

    ``insert_values`` sends it as it is instead of encoding it again, so a
    value stored in two rows (a match's ``compared`` and its audit event)
    is encoded once. The text must be what ``json.dumps`` gives for the
    value, which is what Django stores for it.
    """


def _column_adapter(column: "models.Field[Any, Any]", connection: Any) -> Any:
    """Return a function that prepares one value of ``column`` for the driver."""
    if isinstance(column, models.JSONField):
        prepare = column.get_db_prep_save
        # Most audit events have no ``before``: an empty object, prepared once.
        empty = prepare({}, connection)
        if connection.vendor == "postgresql":
            from psycopg.types.json import Jsonb

            def adapt_json(value: Any) -> Any:
                if isinstance(value, JsonText):
                    return Jsonb(value, dumps=str)
                if type(value) is dict and not value:
                    return empty
                return prepare(value, connection)

        else:

            def adapt_json(value: Any) -> Any:
                if isinstance(value, JsonText):
                    return str(value)
                if type(value) is dict and not value:
                    return empty
                return prepare(value, connection)

        return adapt_json
    if isinstance(column, models.DateTimeField):
        # Most rows of one insert share a time, so each time is adapted once.
        cache: dict[Any, Any] = {}

        def adapt_time(value: Any) -> Any:
            if value not in cache:
                cache[value] = column.get_db_prep_save(value, connection)
            return cache[value]

        return adapt_time
    return lambda value: column.get_db_prep_save(value, connection)


def _insert_columns(model: type[models.Model]) -> "list[models.Field[Any, Any]]":
    meta = model._meta
    if meta.pk is None:
        raise ValueError(f"{meta.label} has no primary key.")
    return [column for column in meta.concrete_fields if column is not meta.pk]


def _insert_prepared(
    model: type[models.Model],
    columns: "list[models.Field[Any, Any]]",
    rows: list[list[Any]],
    *,
    returning: bool = True,
) -> list[int]:
    """Run the multi-row INSERT ... RETURNING of prepared ``rows``; return ids.

    Without ``returning`` the ids are not read and an empty list is returned.
    """
    meta = model._meta
    pk = meta.pk
    if pk is None:
        raise ValueError(f"{meta.label} has no primary key.")
    connection = connections[router.db_for_write(model)]
    names = [column.column or column.name for column in columns]
    if connection.vendor == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        pk_column = (pk.column or pk.name) if returning else None
        return _copy_prepared(connection, meta.db_table, pk_column, names, rows)
    quote = connection.ops.quote_name
    sqlite = connection.vendor == "sqlite"
    # On SQLite the statement is written with the driver's own ? marks and run
    # on the driver's cursor: Django's wrapper turns each %s into ? with a
    # regular expression, 3 ms for a statement of 500 rows of 22 columns.
    mark = "?" if sqlite else "%s"
    placeholder = "(" + ", ".join([mark] * len(columns)) + ")"
    head = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608 (names from the model)
        f"({', '.join(quote(name) for name in names)}) VALUES "
    )
    tail = f" RETURNING {quote(pk.column or pk.name)}"
    # SQLite allows 32,766 parameters per statement; stay well below.
    batch = max(1, min(500, 30_000 // len(columns)))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params = [value for row in chunk for value in row]
            statement = head + ", ".join([placeholder] * len(chunk)) + tail
            if sqlite:
                started = time.perf_counter()
                with connection.wrap_database_errors:
                    sqlite3.Cursor.execute(cursor.cursor, statement, params)
                _log_query(connection, statement, started)
            else:
                cursor.execute(statement, params)
            ids.extend(pk_value for (pk_value,) in cursor.fetchall())
    return ids if returning else []


# From this many rows on, PostgreSQL loads them with COPY (see _copy_prepared).
COPY_MIN_ROWS = 100


def _copy_prepared(
    connection: Any,
    table: str,
    pk_column: str | None,
    names: list[str],
    rows: list[list[Any]],
) -> list[int]:
    """Load ``rows`` with COPY on PostgreSQL; return their ids if ``pk_column``.

    COPY returns no ids, so with ``pk_column`` they are drawn first, in one
    query, from the identity column's sequence, as the inserts would draw
    them. Without it the database numbers the rows and no id is returned.
    """
    quote = connection.ops.quote_name
    ids: list[int] = []
    with connection.cursor() as cursor:
        if pk_column is not None:
            # The sequence is looked up once, not once per row.
            cursor.execute(
                "SELECT nextval(seq.name) FROM "
                "(SELECT pg_get_serial_sequence(%s, %s)::regclass AS name) AS seq, "
                "generate_series(1, %s) ORDER BY 1",
                [quote(table), pk_column, len(rows)],
            )
            ids = [pk_value for (pk_value,) in cursor.fetchall()]
            names = [pk_column, *names]
            rows = [[pk_value, *row] for pk_value, row in zip(ids, rows, strict=True)]
        columns = ", ".join(quote(name) for name in names)
        statement = f"COPY {quote(table)} ({columns}) FROM STDIN"
        started = time.perf_counter()
        # The driver's cursor: Django's wrapper has no copy().
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        _log_query(connection, statement, started)
    return ids


def _log_query(connection: Any, statement: str, started: float) -> None:
    """Log a statement run on the driver's cursor, as Django logs its own.

    Query counts in tests (``CaptureQueriesContext``) and ``DEBUG``'s query
    log then still see it.
    """
    if connection.queries_logged:
        seconds = time.perf_counter() - started
        connection.queries_log.append({"sql": statement, "time": f"{seconds:.3f}"})
