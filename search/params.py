"""Read search parameters from a request's query string, with clear errors.

The page and the API accept the same parameters: ``q``, ``type`` (repeat it
for several), ``tag``, ``context``, ``community`` (a slug), ``author`` (a
username), ``since`` and ``until`` (YYYY-MM-DD, both inclusive), ``sort``
(``relevance`` or ``date``) and ``page``.
"""

import datetime
from dataclasses import dataclass, field

from django.http import QueryDict

from accounts.permissions import Viewer
from accounts.selectors import visible_people
from communities.selectors import visible_communities
from core.numbers import InvalidNumberError, parse_positive_int
from core.text import clean_line, fold_case
from search.backends import Order
from search.models import Kind
from search.selectors import SearchFilters

MAX_PAGE = 1000


@dataclass(frozen=True)
class SearchParams:
    text: str = ""
    filters: SearchFilters = field(default_factory=SearchFilters)
    order: Order = Order.RELEVANCE
    page: int = 1


class InvalidSearchError(ValueError):
    """One or more parameters are invalid; ``errors`` has a message for each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(" ".join(errors))
        self.errors = errors


def _date(name: str, raw: str, errors: list[str]) -> datetime.date | None:
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{name}={raw!r} is not a date: use YYYY-MM-DD.")
        return None


def _page(raw: str, errors: list[str]) -> int:
    if not raw:
        return 1
    try:
        return parse_positive_int(
            raw, name="page", expected="a page number", maximum=MAX_PAGE
        )
    except InvalidNumberError as error:
        errors.append(str(error))
        return 1


def parse_search_params(viewer: Viewer, data: QueryDict) -> SearchParams:
    """Return the parameters in ``data``, or raise ``InvalidSearchError``.

    The error lists a message for each invalid parameter.

    A community or author the viewer may not see is reported exactly like
    one that does not exist.
    """
    errors: list[str] = []

    kinds = tuple(dict.fromkeys(clean_line(value) for value in data.getlist("type")))
    kinds = tuple(kind for kind in kinds if kind)
    for kind in kinds:
        if kind not in Kind.values:
            errors.append(
                f"type={kind!r} is not a result type: use one of "
                f"{', '.join(Kind.values)}."
            )

    community_id = None
    slug = clean_line(data.get("community", ""))
    if slug:
        community_id = (
            visible_communities(viewer).filter(slug=slug).values_list("pk", flat=True)
        ).first()
        if community_id is None:
            errors.append(f"No community found with the address {slug!r}.")

    author_id = None
    username = clean_line(data.get("author", ""))
    if username:
        author_id = (
            visible_people(viewer)
            .filter(username_key=fold_case(username))
            .values_list("pk", flat=True)
        ).first()
        if author_id is None:
            errors.append(f"No person found with the username {username!r}.")

    since = _date("since", clean_line(data.get("since", "")), errors)
    until = _date("until", clean_line(data.get("until", "")), errors)
    if since and until and since > until:
        errors.append(f"since={since} is after until={until}: swap the dates.")

    sort = clean_line(data.get("sort", "")) or Order.RELEVANCE
    if sort not in Order:
        errors.append(f"sort={sort!r} is not a sort order: use relevance or date.")
        sort = Order.RELEVANCE

    page = _page(clean_line(data.get("page", "")), errors)

    if errors:
        raise InvalidSearchError(errors)
    return SearchParams(
        text=data.get("q", ""),
        filters=SearchFilters(
            kinds=kinds,
            tag=clean_line(data.get("tag", "")),
            context=clean_line(data.get("context", "")),
            community_id=community_id,
            author_id=author_id,
            since=since,
            until=until,
        ),
        order=Order(sort),
        page=page,
    )
