"""Messages for usernames that are taken or look like another account's."""

from accounts.models import User
from core.confusables import skeleton
from core.text import fold_case


def taken_username_message(username: str, owner: str) -> str:
    """Return why ``username`` is rejected when ``owner`` has it, ignoring case."""
    return (
        f'The username "{username}" already belongs to {owner}: choose another '
        "username, or leave it empty to derive one from the e-mail."
    )


def look_alike_username_message(username: str, owner_username: str, owner: str) -> str:
    """Return why ``username`` is rejected when it looks like ``owner_username``.

    ``owner`` names the person who has ``owner_username``, by e-mail address
    or, for an account without one, by username.
    """
    return (
        f'The username "{username}" looks the same as "{owner_username}", '
        f"which belongs to {owner}: they differ only in letters that look "
        "alike, in accents or in invisible characters. Choose a username that "
        "reads differently, or leave it empty to derive one from the e-mail."
    )


def username_clash_message(username: str, *, person_id: int | None) -> str | None:
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
        return taken_username_message(username, owner.email or owner.username)
    owner = others.filter(username_skeleton=skeleton(username)).first()
    if owner is not None:
        return look_alike_username_message(
            username, owner.username, owner.email or owner.username
        )
    return None
