"""The session store: Django's database sessions, read by a fixed statement."""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone


class SessionStore(db.SessionStore):
    """Django's database session store, reading the session without the ORM.

    Every request with a session cookie reads its session. The ORM spent
    about 0.5 ms compiling that lookup, more than the lookup itself, so it
    is one fixed statement here, with the same conditions: the key and an
    expiry after now. Writing, deleting and clearing expired sessions are
    Django's own.
    """

    def _get_session_from_db(self) -> Session | None:
        key = self.session_key
        if key is None:
            return None
        connection = connections[DEFAULT_DB_ALIAS]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT session_data FROM django_session "
                "WHERE session_key = %s AND expire_date > %s",
                [key, now],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return Session(session_key=key, session_data=row[0])
