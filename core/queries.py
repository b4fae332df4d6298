"""Parts of compiled querysets, for statements that are written as SQL."""

from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import QuerySet


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
