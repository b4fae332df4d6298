"""Read search parameters from a request's query string, with clear errors.

The page and the API accept the same parameters: ``q``, ``type`` (repeat it
for several), ``tag``, ``context`` (a declared help-context key),
``community`` (a slug or a name), ``author`` (a username), ``since`` and
``until`` (YYYY-MM-DD, both inclusive), ``sort`` (``relevance`` or
``date``) and ``page``.
"""

import datetime
import difflib
from dataclasses import dataclass, field

from django.db.models import Q
from django.http import QueryDict

from accounts.permissions import Viewer
from accounts.selectors import visible_people
from assist.contexts import contexts_for
from communities.models import name_key
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


def _context(raw: str, errors: list[str], *, external: bool) -> str:
    """Return the declared help-context key ``raw`` names, ignoring case.

    A customer account may name only the portal's contexts, and hears of
    no other key: an internal one reads as unknown, and the hints and the
    example name only portal keys.
    """
    if not raw:
        return ""
    key = raw.lower()
    keys = sorted(context.key for context in contexts_for(external=external))
    if key in keys:
        return key
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
    if close:
        quoted = [repr(match) for match in close]
        options = ", ".join(quoted[:-1]) + " or " if len(quoted) > 1 else ""
        hint = f"did you mean {options}{quoted[-1]}?"
    else:
        example = "portal.order" if external else "reconciliation.cases"
        hint = f"pick one from the Context list, such as {example!r}."
    errors.append(f"context={raw!r} is not a help context key: {hint}")
    return ""


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
    community = clean_line(data.get("community", ""))
    if community:
        # The address or the name, which people type as it is shown.
        by_address_or_name = Q(slug=community) | Q(name_key=name_key(community))
        community_id = (
            visible_communities(viewer)
            .filter(by_address_or_name)
            .values_list("pk", flat=True)
        ).first()
        if community_id is None:
            errors.append(
                f"No community found with the name or address {community!r}: "
                "pick one from the Community list."
            )

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

    external = bool(getattr(viewer, "is_external", False))
    context = _context(clean_line(data.get("context", "")), errors, external=external)

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
            context=context,
            community_id=community_id,
            author_id=author_id,
            since=since,
            until=until,
        ),
        order=Order(sort),
        page=page,
    )
