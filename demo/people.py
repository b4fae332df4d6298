"""Demo accounts shared by every part of the demo company loader."""

from functools import cache

from django.contrib.auth.hashers import make_password

from accounts.models import LearnerGroup, Role, User
from core.text import fold_case

# Every demo account signs in with this password. The demo is for a laptop,
# never for a deployment: `load_demo` exits with an error when DEBUG is off,
# unless given --allow-production.
DEMO_PASSWORD = "commonplace-demo"  # noqa: S105


@cache
def demo_password_hash() -> str:
    """Hash the demo password once per process.

    Every demo account shares the hash (and its salt): hashing it again for
    each account costs about half a second apiece with the default hasher.
    """
    return make_password(DEMO_PASSWORD)


def create_demo_person(
    *,
    username: str,
    first_name: str,
    last_name: str,
    role: Role,
    learner_group_slug: str | None,
    title: str = "",
    **fields: object,
) -> User:
    """Create a demo account, or return the existing one with that username."""
    existing = User.objects.filter(username_key=fold_case(username)).first()
    if existing is not None:
        return existing

    group = (
        LearnerGroup.objects.get(slug=learner_group_slug)
        if learner_group_slug
        else None
    )
    person = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=f"{username}@companyx.example",
        role=role,
        title=title,
        learner_group=group,
        **fields,
    )
    person.password = demo_password_hash()
    person.save()
    return person
