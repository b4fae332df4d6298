"""A QuerySet whose ``update()`` lets other apps act in the same transaction.

Django sends no model signal for ``QuerySet.update()`` (nor for
``bulk_update()``, which calls it), so a rule kept by ``post_save``
receivers would miss those writes. A model whose rows feed such a rule uses
``SignalledUpdateQuerySet`` as its manager.
"""

from collections.abc import Callable
from typing import Any, Self, cast

from django.db import transaction
from django.db.models import Model, QuerySet
from django.dispatch import Signal

# Sent by ``SignalledUpdateQuerySet.update()`` inside its transaction, before
# the UPDATE runs, with ``sender`` (the model), ``rows`` (the queryset being
# updated), ``fields`` (a frozenset of the names passed to ``update()``) and
# ``actor`` (the person given to ``with_actor()``, or None). A receiver reads
# what it needs while the rows still match ``rows`` and may return a
# callable without arguments, which runs right after the UPDATE in the same
# transaction.
rows_updating = Signal()


class SignalledUpdateQuerySet[M: Model](QuerySet[M]):
    """A QuerySet that sends ``rows_updating`` on every ``update()``."""

    _actor: Any = None

    def with_actor(self, actor: Any) -> Self:
        """Return a copy whose ``update()`` names ``actor`` to the receivers."""
        clone = self.all()
        clone._actor = actor
        return clone

    def _clone(self) -> Self:
        # Django copies a queryset for every chained call through this
        # private method, which the type stubs do not declare.
        clone: Self = super()._clone()  # type: ignore[misc]
        clone._actor = self._actor
        return clone

    def update(self, **kwargs: Any) -> int:
        """Update the rows, running the receivers' work in the same transaction.

        The block opens no savepoint, so an error inside it marks an
        enclosing atomic block for rollback, as a failed statement already
        does on PostgreSQL.
        """
        with transaction.atomic(using=self.db, savepoint=False):
            responses = rows_updating.send(
                sender=self.model,
                rows=self,
                fields=frozenset(kwargs),
                actor=self._actor,
            )
            count = super().update(**kwargs)
            for _receiver, response in responses:
                after_update = cast(Callable[[], object] | None, response)
                if after_update is not None:
                    after_update()
        return count
