"""Reference keys: the form in which a payment's reference meets an invoice.

Bank exports write one invoice number many ways: ``INV-10248``,
``inv 10248``, ``Inv.10248``, ``INV/10248``, with accents dropped or added and in
full-width letters. ``reference_key`` keeps
only the letters and digits, without accents and case-folded, so all of
these give ``inv10248``. Invoices and payments store the key of their
number and reference in indexed columns, written in Python when a row is
saved, so both engines compare the same stored text and neither needs
Unicode support in SQL.

Duplicate invoices are still found by ``duplicates.normalize_reference``,
which keeps punctuation: ``INV-1-0248`` and ``INV-10248`` are two invoices
there, but one key here. When a key names several invoices, the cash rules
(``cash.invoices_named``) let the payment's reference as text decide, as
``normalize_reference`` compares it. A payment whose text is neither
number stays unplaced, and its case lists both invoices.
"""

import unicodedata
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models

ModelT = TypeVar("ModelT", bound=models.Model)

# Stored keys are cut to this many characters, more than any number or
# reference field holds, because decomposition may lengthen a text.
MAX_KEY_LENGTH = 160


def reference_key(text: str) -> str:
    """Return ``text`` as lowercase letters and digits, without accents or punctuation.

    Compatibility decomposition (NFKD) turns full-width and other variant
    forms into plain ones and splits accented letters from their marks,
    which are dropped. What is left is case-folded, and only letters and
    digits are kept. A text with none gives ''.
    """
    if text.isascii():
        folded = "".join(char for char in text if char.isalnum()).lower()
        return folded[:MAX_KEY_LENGTH]
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        char
        for char in decomposed.casefold()
        if char.isalnum() and not unicodedata.combining(char)
    )
    # Decomposition also splits letters that are not accented, such as
    # Hangul syllables into their jamo, and NFKC joins those again.
    return unicodedata.normalize("NFKC", kept)[:MAX_KEY_LENGTH]


# The key column written from each source column, per model.
KEY_COLUMNS: dict[str, dict[str, str]] = {
    "reconciliation.Invoice": {"number": "number_key", "reference": "reference_key"},
    "reconciliation.Payment": {"reference": "reference_key"},
}


def _columns(model: type[models.Model]) -> dict[str, str]:
    return KEY_COLUMNS[model._meta.label]


def fill_keys(instance: models.Model) -> None:
    """Set the key columns of ``instance`` from its number and reference."""
    for source, key in _columns(type(instance)).items():
        setattr(instance, key, reference_key(getattr(instance, source) or ""))


class ReferenceKeyQuerySet(models.QuerySet[ModelT]):
    """A query set that keeps the reference keys with their source columns.

    ``bulk_create``, ``bulk_update`` and ``update`` send no ``save``, so
    each sets the keys itself. An ``update`` that writes a source column
    with an expression (an ``F()`` or a function) and not its key cannot be
    keyed in Python, and is rejected.
    """

    def bulk_create(
        self, objs: Iterable[ModelT], *args: Any, **kwargs: Any
    ) -> list[ModelT]:
        objs = list(objs)
        for instance in objs:
            fill_keys(instance)
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(
        self,
        objs: Iterable[ModelT],
        fields: Iterable[str],
        *args: Any,
        **kwargs: Any,
    ) -> int:
        objs = list(objs)
        fields = list(fields)
        columns = _columns(self.model)
        written = [columns[name] for name in fields if name in columns]
        if written:
            for instance in objs:
                fill_keys(instance)
            fields += [key for key in written if key not in fields]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        for source, key in _columns(self.model).items():
            # ``bulk_update`` sends the key with its source, as a caller may.
            if source not in kwargs or key in kwargs:
                continue
            value = kwargs[source]
            if not isinstance(value, str):
                raise TypeError(
                    f"{self.model.__name__}.{source} was updated with {value!r}, "
                    f"so {key} cannot be computed: update it with a string, or "
                    "save each row."
                )
            kwargs[key] = reference_key(value)
        return super().update(**kwargs)
