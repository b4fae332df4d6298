"""Names of the people who wrote questions, answers and comments, per reader.

A customer account reads a staff member's name only when that person is in
``accounts.selectors.visible_people`` for it: staff who chose to be visible
to customers. Other staff are shown by their role ("Sales representative").
The library, the ask confirmation, the people directory and the editors
named in a post's history follow the same rule. Customer authors keep their
names, and employees read every name.
"""

from collections.abc import Iterable
from typing import Protocol

from accounts.models import Role, User
from accounts.permissions import Viewer
from accounts.selectors import visible_people

ROLE_LABELS = dict(Role.choices)


class Authored(Protocol):
    """A question, answer, comment or post: a row that keeps its author's name."""

    @property
    def author_id(self) -> int | None: ...

    @property
    def author_name(self) -> str: ...


class Edited(Protocol):
    """A revision of a post, comment or answer: a row that keeps its editor's name."""

    @property
    def edited_by_id(self) -> int | None: ...

    @property
    def edited_by_name(self) -> str: ...


def hidden_author_labels(
    viewer: Viewer, author_ids: Iterable[int | None]
) -> dict[int, str]:
    """Return the role label shown instead of each author ``viewer`` may not see named.

    Costs one query for a customer account and none for an employee. A
    reader who is not signed in sees no staff name.
    """
    ids = {pk for pk in author_ids if pk is not None}
    if not ids or (isinstance(viewer, User) and not viewer.is_external):
        return {}
    staff = User.objects.filter(pk__in=ids).exclude(role=Role.CUSTOMER)
    hidden = staff.exclude(pk__in=visible_people(viewer).values("pk"))
    return {
        pk: str(ROLE_LABELS.get(role, role))
        for pk, role in hidden.values_list("pk", "role")
    }


def shown_name(viewer: User, person: User) -> str:
    """Return ``person``'s name as ``viewer`` may read it, or their role."""
    labels = hidden_author_labels(viewer, [person.pk])
    return labels.get(person.pk, person.display_name)


def author_of(row: Authored, hidden: dict[int, str]) -> str:
    """Return the author of ``row``: their role when in ``hidden``, else the name."""
    return _label(row.author_id, row.author_name, hidden)


def editor_of(revision: Edited, hidden: dict[int, str]) -> str:
    """Return who edited ``revision``: their role when in ``hidden``, else the name."""
    return _label(revision.edited_by_id, revision.edited_by_name, hidden)


def _label(person_id: int | None, name: str, hidden: dict[int, str]) -> str:
    if person_id is None:
        return name
    return hidden.get(person_id, name)
