"""The roles a learner plays in their own sandbox.

A practice session has one person, who does the work of every role the
scenario needs: warehouse, sales and finance, and the customer who accepts
or rejects a proposal.
"""

import copy
from typing import NoReturn

from accounts.models import User


def _reject_save(*args: object, **kwargs: object) -> NoReturn:
    raise RuntimeError(
        "A played role is a copy of the learner for one request and is never "
        "saved: save the learner's own user row instead."
    )


def played_role(learner: User, role: str) -> User:
    """Return a copy of ``learner`` that acts in ``role`` on a sandbox screen.

    The copy keeps the learner's id, so audit events and assignments name
    the learner, with the played role as the event's role. Its ``save``
    raises, so the learner's stored role never changes.
    """
    played = copy.copy(learner)
    played.role = role
    setattr(played, "save", _reject_save)  # noqa: B010 (mypy rejects a method assignment)
    return played
