"""Store look-alike skeletons for existing rows under a unique index."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.confusables import skeleton


@dataclass(frozen=True)
class MarkedLookAlike:
    """A row left without a skeleton because an older row has the same one."""

    pk: Any
    text: str
    older_pk: Any
    older_text: str


def store_skeletons(
    model: Any, *, text_field: str, skeleton_field: str, order_by: Sequence[str]
) -> list[MarkedLookAlike]:
    """Store ``skeleton(text_field)`` of every row, oldest first by ``order_by``.

    The first row of each skeleton gets it. Each later row whose text looks
    like an earlier one keeps NULL, which marks it for a rename, and is
    returned with the row it looks like. Every stored skeleton is cleared
    first, so running this again after the skeleton rule changed gives the
    same result as on a fresh column, and no update meets a value that an
    earlier rule left in the unique index.
    """
    rows = model.objects.order_by(*order_by).values_list("pk", text_field)
    model.objects.exclude(**{skeleton_field: None}).update(**{skeleton_field: None})
    holders: dict[str, tuple[Any, str]] = {}
    marked: list[MarkedLookAlike] = []
    for pk, text in rows.iterator():
        key = skeleton(text)
        holder = holders.get(key)
        if holder is not None:
            marked.append(MarkedLookAlike(pk, text, *holder))
            continue
        holders[key] = (pk, text)
        model.objects.filter(pk=pk).update(**{skeleton_field: key})
    return marked
