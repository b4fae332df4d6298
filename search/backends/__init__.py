"""Pick the search backend for the database engine in use."""

from django.db import connection

from search.backends.base import Matches, Order, RawHit, SearchBackend

__all__ = ["Matches", "Order", "RawHit", "SearchBackend", "get_backend"]


def get_backend() -> SearchBackend:
    """Return the backend for the default database's engine."""
    if connection.vendor == "postgresql":
        from search.backends.postgresql import PostgresBackend

        return PostgresBackend()
    if connection.vendor == "sqlite":
        from search.backends.sqlite import Fts5Backend

        return Fts5Backend()
    raise NotImplementedError(
        f"Search has no backend for {connection.vendor}: use SQLite or PostgreSQL."
    )
