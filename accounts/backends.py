"""The sign-in backend, whose per-request read of the person is compiled once."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from accounts.models import User
from core.queries import KeptQuery

# The columns read for the signed-in person, in the order of the SELECT.
_NAMES = tuple(field.attname for field in User._meta.concrete_fields)


def _person_row(person_id: int) -> QuerySet[Any]:
    return User._default_manager.filter(pk=person_id).values_list(*_NAMES)


class AccountBackend(ModelBackend):
    """Django's model backend, which reads the signed-in person from kept SQL.

    Every signed-in request reads its person by id. Compiling that queryset
    took about 0.5 ms of each request, more than running it, so the SQL and
    its converters are compiled once per process (``KeptQuery``) and only
    the id changes. The row still becomes a ``User`` through ``from_db``,
    and an inactive person is refused as ``ModelBackend`` refuses them.
    """

    def get_user(self, user_id: Any) -> User | None:
        try:
            person_id = int(user_id)
        except (TypeError, ValueError):
            return None
        kept = KeptQuery.of(_person_row, DEFAULT_DB_ALIAS)
        sql, params = kept.statement(person_id)
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(sql, params)
            rows = kept.rows(cursor.fetchall())
        if not rows:
            return None
        person = User.from_db(DEFAULT_DB_ALIAS, _NAMES, rows[0])
        return person if self.user_can_authenticate(person) else None
