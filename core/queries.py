"""Parts of compiled querysets, for statements that are written as SQL."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState


def where_sql(items: QuerySet[Any]) -> tuple[str, tuple[Any, ...]] | None:
    """Compile the WHERE clause of ``items``, or return None when it matches nothing.

    A queryset without conditions gives ``1 = 1``. Columns are named as
    ``"table"."column"`` with the queryset's own table aliases.
    """
    query = items.query
    compiler = query.get_compiler(using=items.db)
    try:
        sql, params = query.where.as_sql(compiler, connections[items.db])
    except EmptyResultSet:
        return None
    except FullResultSet:
        return "1 = 1", ()
    return sql, tuple(params)


def instance_from_values[M: Model](
    model: type[M], names: Sequence[str], values: Sequence[Any], alias: str
) -> M:
    """Return an instance of ``model`` read from database ``alias`` with ``values``.

    The values go straight into the instance's ``__dict__``, which is what
    ``Model.__init__`` ends with, without its per-field descriptor work.
    ``Model.__init__`` also sends the init signals, so this suits a model
    only while no receiver listens to them.
    """
    instance = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    instance.__dict__["_state"] = state
    instance.__dict__.update(zip(names, values, strict=True))
    return instance


Statement = tuple[str, Sequence[Any]]


@contextmanager
def pipelined(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Send the block's statements without waiting for each result, on PostgreSQL.

    In psycopg's pipeline mode a statement is sent and its result read at
    the next read or at the end of the block, so statements share round
    trips. A failed statement raises there, as psycopg's own error. COPY is
    not allowed in the block. SQLite runs the block as it is.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.connection.pipeline():
        yield


def fetch_together(
    statements: Sequence[Statement], using: str = DEFAULT_DB_ALIAS
) -> list[list[tuple[Any, ...]]]:
    """Run independent ``statements`` and return the rows of each, in order.

    On PostgreSQL the statements go to the server in one pipeline (psycopg's
    pipeline mode), so they cost one round trip instead of one each. No
    statement may depend on what another one writes. Each still counts as
    one query for Django's query log.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or len(statements) < 2:
        results = []
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(cursor.fetchall())
        return results

    with ExitStack() as stack:
        cursors = [stack.enter_context(connection.cursor()) for _ in statements]
        # Inside the pipeline, execute() only sends. The results arrive when
        # the block ends, and so do the errors, hence the error wrapper.
        with connection.wrap_database_errors, pipelined(using):
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
        return [cursor.fetchall() for cursor in cursors]


# Stands for an id in kept SQL (``KeptQuery``); no row has it.
STAND_IN_ID = -1_000_000_009
_KEPT_BY_KEY: dict[tuple[Any, ...], "KeptQuery"] = {}


def kept_statement(
    key: tuple[Any, ...], build: Callable[[int], QuerySet[Any]], person_id: int
) -> tuple[str, list[Any]]:
    """Return the SQL and parameters of ``build(person_id)``, compiled once per key.

    ``build`` is compiled once, for ``STAND_IN_ID``, and kept under ``key``
    (``KeptQuery``). Then ``person_id`` takes the stand-in's places. ``key``
    names everything else the SQL depends on, the database vendor and the
    person's audience included. The SQL reads its tables when it runs, so
    it reads every later change of the rows.
    """
    kept = _KEPT_BY_KEY.get(key)
    if kept is None:
        kept = _KEPT_BY_KEY[key] = KeptQuery(build, DEFAULT_DB_ALIAS, 1)
    sql, params = kept.statement(person_id)
    return sql, list(params)


Converter = Callable[[Any, Any, Any], Any]


class KeptQuery:
    """A queryset's SQL and its columns' converters, compiled once per key.

    ``build`` is compiled for stand-in ids, and with it the converters the
    ORM applies to the columns (SQLite's decimals, for example).
    ``statement(*values)`` gives the SQL with each value in every place of
    its stand-in, for ``fetch_together`` to send with others. ``rows``
    converts what it returned as iterating the queryset would.

    ``build`` takes ``arity`` ids. A text column compared with a stand-in
    gets its text, which the value then replaces as well.
    """

    _compiled: dict[tuple[Any, ...], "KeptQuery"] = {}

    def __init__(
        self, build: Callable[..., QuerySet[Any]], using: str, arity: int
    ) -> None:
        stand_ins = [STAND_IN_ID - index for index in range(arity)]
        items = build(*stand_ins).using(using)
        compiler = items.query.get_compiler(using=using)
        self.alias = using
        self.sql, self.params = compiler.as_sql()
        if self.sql.count("%s") != len(self.params):
            raise ValueError(
                "The kept statement has a literal %s in its SQL, so its "
                "parameters cannot be placed: keep it as a queryset instead."
            )
        places: dict[int | str, int] = {}
        for index, value in enumerate(stand_ins):
            places[value] = places[str(value)] = index
        # Parameter index -> which value goes there.
        self.slots = {
            index: places[param]
            for index, param in enumerate(self.params)
            if isinstance(param, int | str) and param in places
        }
        selected = [expression for expression, _, _ in compiler.select]
        self.converters: list[tuple[int, list[Converter], Any]] = [
            (position, converters, expression)
            for position, (converters, expression) in compiler.get_converters(
                selected
            ).items()
        ]

    @classmethod
    def of(
        cls,
        build: Callable[..., QuerySet[Any]],
        using: str = DEFAULT_DB_ALIAS,
        *,
        arity: int = 1,
    ) -> "KeptQuery":
        """Return ``build``'s query for database ``using``, compiled the first time.

        It is kept under ``build``'s name, ``arity`` and the database's alias
        and vendor, so ``build`` must depend on nothing else.
        """
        key = (
            build.__module__,
            build.__qualname__,
            arity,
            using,
            connections[using].vendor,
        )
        kept = cls._compiled.get(key)
        if kept is None:
            kept = cls._compiled[key] = cls(build, using, arity)
        return kept

    def statement(self, *values: Any) -> Statement:
        """Return the SQL and parameters with ``values`` in the stand-ins' places."""
        slots = self.slots
        return self.sql, [
            values[slots[index]] if index in slots else param
            for index, param in enumerate(self.params)
        ]

    def rows(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Return ``rows`` with each column converted as the ORM converts it."""
        if not self.converters:
            return rows
        connection = connections[self.alias]
        converted = []
        for row in rows:
            values = list(row)
            convert_values(values, self.converters, connection)
            converted.append(tuple(values))
        return converted


def convert_values(
    values: list[Any],
    converters: Iterable[tuple[int, Sequence[Converter], Any]],
    connection: Any,
) -> None:
    """Convert ``values`` in place, each ``(position, converters, column)`` in turn.

    This is what the ORM does to a row it reads: the backend's converters,
    then the field's, each given the column and the connection.
    """
    for position, column_converters, column in converters:
        value = values[position]
        for converter in column_converters:
            value = converter(value, column, connection)
        values[position] = value


def fetch_kept(
    queries: Sequence[tuple[KeptQuery, Sequence[Any]]], using: str = DEFAULT_DB_ALIAS
) -> list[list[tuple[Any, ...]]]:
    """Run kept queries, each with its values, together; return converted rows.

    The statements go in one round trip on PostgreSQL (``fetch_together``),
    and the server runs them one after another in the order given, so
    locking statements lock in that order.
    """
    results = fetch_together(
        [query.statement(*values) for query, values in queries], using=using
    )
    return [query.rows(rows) for (query, _), rows in zip(queries, results, strict=True)]
