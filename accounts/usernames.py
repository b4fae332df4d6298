"""Messages for usernames that are taken or look like another account's."""

from django.core.exceptions import ValidationError

from accounts.models import User
from core.confusables import skeleton
from core.text import fold_case


class UsernameClashError(ValidationError):
    """A username taken ignoring case, or one that looks like another account's.

    ``User.save`` and ``bulk_create`` raise it in place of the unique
    index's bare IntegrityError, after the rejected write rolled back.
    """

    def __init__(self, username: str, message: str) -> None:
        super().__init__({"username": message})
        self.username = username
        self.reason = message

    def __str__(self) -> str:
        return self.reason


# The people import's other way out of a rejected username, because it
# derives an empty username from the e-mail address.
IMPORT_NEXT_STEP = "leave it empty to derive one from the e-mail"


def taken_username_message(username: str, owner: str, *, in_import: bool = True) -> str:
    """Return why ``username`` is rejected when ``owner`` has it, ignoring case.

    ``in_import`` adds the people import's other way out: an empty username.
    """
    other_way = f", or {IMPORT_NEXT_STEP}" if in_import else ""
    return (
        f'The username "{username}" already belongs to {owner}: choose another '
        f"username{other_way}."
    )


def look_alike_username_message(
    username: str, owner_username: str, owner: str, *, in_import: bool = True
) -> str:
    """Return why ``username`` is rejected when it looks like ``owner_username``.

    ``owner`` names the person who has ``owner_username``, by e-mail address
    or, for an account without one, by username. ``in_import`` adds the
    people import's other way out: an empty username.
    """
    other_way = f", or {IMPORT_NEXT_STEP}" if in_import else ""
    return (
        f'The username "{username}" looks the same as "{owner_username}", '
        f"which belongs to {owner}: they differ only in letters that look "
        "alike, in accents or in invisible characters. Choose a username that "
        f"reads differently{other_way}."
    )


def batch_clash_message(username: str, earlier_username: str) -> str:
    """Return why ``username`` is rejected when a batch has ``earlier_username``."""
    return (
        f'The username "{username}" looks the same as "{earlier_username}", '
        "which is created in the same batch: they differ only in case, in "
        "letters that look alike, in accents or in invisible characters. "
        "Give one of them a username that reads differently."
    )


def username_clash_message(
    username: str, *, person_id: int | None, in_import: bool = True
) -> str | None:
    """Return why the database rejects ``username`` for an account, or None.

    Reads the committed accounts, so call it after the rejected insert or
    update has rolled back to its savepoint. ``person_id`` is the account
    being renamed, or None for a new one. A username equal ignoring case
    comes first; otherwise the account whose stored skeleton is the
    username's is named.
    """
    others = User.objects.exclude(pk=person_id) if person_id else User.objects.all()
    owner = others.filter(username_key=fold_case(username)).first()
    if owner is not None:
        return taken_username_message(
            username, owner.email or owner.username, in_import=in_import
        )
    owner = others.filter(username_skeleton=skeleton(username)).first()
    if owner is not None:
        return look_alike_username_message(
            username, owner.username, owner.email or owner.username, in_import=in_import
        )
    return None
