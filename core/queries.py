"""Parts of compiled querysets, for statements that are written as SQL."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
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
