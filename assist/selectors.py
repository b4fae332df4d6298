"""The help panel: what helps on a screen, ranked for its context.

Content tagged with the requested context comes first, then content tagged
with its parents, nearest first; within one level, more helpful and more
recently updated content ranks higher. The panel reports the most specific
context that had content, so a screen can say when it fell back to a parent.
The panel runs a fixed number of queries whatever the content volume, and
each reads only the first rows of each level (``assist.ranking``).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import connection
from django.db.models import Model, Q
from django.utils import timezone

from accounts.models import CrmFunction, SuperUserAssignment, User
from accounts.permissions import Viewer
from answers.models import Answer, AnswerVote, FaqEntry, Question
from answers.permissions import FaqOwnership
from answers.selectors import (
    published_faq_entries,
    visible_questions_outside_private,
)
from assist.caching import (
    cached_held_entries,
    cached_panel,
    current_help_version,
    help_version_and_assignment,
)
from assist.contexts import DECLARED_KEYS, is_declared_for
from assist.models import Availability, HelpContext
from assist.ranking import ItemSource, PanelRead
from assist.rules import compiled_rule
from communities.models import Community, Membership
from core.queries import Statement, fetch_together
from library.models import Document
from library.selectors import visible_documents

MAX_SHOWN_KEY = 120

# The models whose tables the panel's statements read, for every audience.
# ``assist.caching`` empties every cached panel when a row of one of them
# changes, and a test checks this list against the SQL the panel runs.
PANEL_READS: tuple[type[Model], ...] = (
    HelpContext,
    CrmFunction,
    User,
    SuperUserAssignment,
    Availability,
    FaqEntry,
    FaqEntry.contexts.through,
    FaqEntry.learner_groups.through,
    Document,
    Document.contexts.through,
    Document.learner_groups.through,
    Question,
    Community,
)

# Models the panel does not read but whose changes reach what it reads
# without a signal on the read model. Database triggers copy Answer.score,
# which a vote changes with ``update()``, to ``Question.accepted_score``.
# Deleting an answer sets ``Question.accepted_answer`` to NULL with an
# UPDATE statement, not ``Question.save()``.
PANEL_DEPENDS_ON: tuple[type[Model], ...] = (Answer, AnswerVote)

# Tables the panel reads whose changes cannot change any panel, so the
# cache does not watch them. Memberships decide only which private
# communities an employee reads, and the panel leaves private communities
# out (``visible_questions_outside_private``).
PANEL_READS_UNWATCHED: tuple[type[Model], ...] = (Membership,)


class UnknownContextError(LookupError):
    def __init__(self, key: str, *, external: bool = False) -> None:
        shown = key if len(key) <= MAX_SHOWN_KEY else f"{key[:MAX_SHOWN_KEY]}..."
        # A customer's example is a portal key, so the message itself names
        # no internal screen.
        example = "portal.order" if external else "reconciliation.order"
        super().__init__(
            f"Unknown help context {shown!r}: use a key a CRM screen declares, "
            f"such as {example!r}."
        )
        self.key = key


def require_declared(key: str) -> str:
    """Return ``key`` if a screen declares it; raise before any query or cache use."""
    if key not in DECLARED_KEYS:
        raise UnknownContextError(key)
    return key


def require_declared_for(viewer: Viewer, key: str) -> str:
    """Return ``key`` if it is one of the contexts ``viewer`` may read, else raise.

    A customer account may read only the portal's contexts, the rule search
    uses (``contexts_for``). An internal key raises the same error as a key
    no screen declares, so a customer cannot tell the two apart and learns
    no internal screen or discrepancy name.
    """
    external = isinstance(viewer, User) and viewer.is_external
    if not is_declared_for(key, external=external):
        raise UnknownContextError(key, external=external)
    return key


@dataclass(frozen=True)
class SuperUser:
    username: str
    name: str
    title: str
    available: bool = False


@dataclass(frozen=True)
class FaqItem:
    pk: int
    question: str
    answer_html: str
    context_key: str
    # Held for its owners (``FaqEntry.owners_only``): shown only to them.
    held: bool = False


@dataclass(frozen=True)
class DocumentItem:
    pk: int
    title: str
    summary: str
    context_key: str


@dataclass(frozen=True)
class AnsweredQuestion:
    pk: int
    title: str
    context_key: str


@dataclass
class HelpPanel:
    context: HelpContext
    chain: list[HelpContext]
    crm_function: CrmFunction | None
    faq_entries: list[FaqItem] = field(default_factory=list)
    documents: list[DocumentItem] = field(default_factory=list)
    answered_questions: list[AnsweredQuestion] = field(default_factory=list)
    super_users: list[SuperUser] = field(default_factory=list)
    # FAQ entry id to the id of the listed question whose answer it was made
    # from, so ``focused`` lists that question once, as the FAQ entry.
    faq_source_questions: dict[int, int] = field(default_factory=dict)

    @property
    def matched_context(self) -> HelpContext | None:
        """Return the most specific context in the chain that had any content."""
        keys = {entry.context_key for entry in self.faq_entries}
        keys.update(document.context_key for document in self.documents)
        keys.update(question.context_key for question in self.answered_questions)
        return next((context for context in self.chain if context.key in keys), None)

    @property
    def fell_back(self) -> bool:
        matched = self.matched_context
        return matched is not None and matched.pk != self.context.pk

    def focused(self) -> "HelpPanel":
        """Return the panel with each list cut to its nearest context level.

        A list keeps only its items of the most specific context in the
        chain that has any, so a parent's general entries never fill up a
        list that has entries for the screen or the record's state. Held
        entries, added later by ``build_help_panel``, are not cut.

        A question whose answer an FAQ entry kept here was made from is
        dropped before its list is cut, so the same item is not listed twice.
        """
        faq_entries = _nearest_level(self.faq_entries)
        in_faq = {
            self.faq_source_questions[entry.pk]
            for entry in faq_entries
            if entry.pk in self.faq_source_questions
        }
        questions = [
            question
            for question in self.answered_questions
            if question.pk not in in_faq
        ]
        return replace(
            self,
            faq_entries=faq_entries,
            documents=_nearest_level(self.documents),
            answered_questions=_nearest_level(questions),
        )

    def _wider_level(self, items: "Sequence[LevelItem]") -> HelpContext | None:
        """Return the wider context ``items`` come from, or None for this screen's."""
        # A held FAQ entry is added after the cut, from any level.
        key = next(
            (item.context_key for item in items if not getattr(item, "held", False)),
            None,
        )
        if key is None or key == self.context.key:
            return None
        return next((context for context in self.chain if context.key == key), None)

    @property
    def faq_general_for(self) -> HelpContext | None:
        """The wider context the FAQ entries come from, None for this screen's."""
        return self._wider_level(self.faq_entries)

    @property
    def documents_general_for(self) -> HelpContext | None:
        """The wider context the documents come from, None for this screen's."""
        return self._wider_level(self.documents)

    @property
    def questions_general_for(self) -> HelpContext | None:
        """The wider context the answered questions come from, or None."""
        return self._wider_level(self.answered_questions)


class LevelItem(Protocol):
    """An item of the panel, tagged with the context level it was found on."""

    @property
    def context_key(self) -> str: ...


def _nearest_level[T: LevelItem](items: list[T]) -> list[T]:
    """Return the items of the first item's level, which is the nearest one.

    The ranking puts every item of a more specific level before any item of
    a wider one (``assist.ranking``), so the first item names the nearest.
    """
    if not items:
        return items
    level = items[0].context_key
    return [item for item in items if item.context_key == level]


_CONTEXT_FIELDS = ("id", "key", "title", "parent_id", "crm_function_id", "depth")
_FUNCTION_FIELDS = ("id", "slug", "name", "position")


def chain_keys(key: str) -> list[str]:
    """Return ``key`` and its parents' keys, most specific first."""
    parts = require_declared(key).split(".")
    return [".".join(parts[:length]) for length in range(len(parts), 0, -1)]


def _chain_statement(keys: list[str]) -> Statement:
    quote = connection.ops.quote_name
    columns = [f"level.{quote(name)}" for name in _CONTEXT_FIELDS]
    columns += [f"crm.{quote(name)}" for name in _FUNCTION_FIELDS]
    sql = f"""
        SELECT {", ".join(columns)}
        FROM {_table(HelpContext)} level
        LEFT JOIN {_table(CrmFunction)} crm ON crm.id = level.crm_function_id
        WHERE level.{quote("key")} IN ({", ".join(["%s"] * len(keys))})
        ORDER BY level.depth DESC
    """  # noqa: S608 (only names and placeholders are formatted in)
    return sql, keys


def _chain_from_rows(key: str, rows: list[tuple[Any, ...]]) -> list[HelpContext]:
    chain = []
    width = len(_CONTEXT_FIELDS)
    for row in rows:
        context = HelpContext.from_db(connection.alias, _CONTEXT_FIELDS, row[:width])
        function = row[width:]
        context.crm_function = (
            CrmFunction.from_db(connection.alias, _FUNCTION_FIELDS, function)
            if function[0] is not None
            else None
        )
        chain.append(context)
    if not chain or chain[0].key != key:
        raise UnknownContextError(key)
    return chain


def context_chain(key: str) -> list[HelpContext]:
    """Return the context for ``key`` and its ancestors, most specific first.

    Each context comes with its CRM function. One plain statement, which
    costs less to build than the same queryset with ``select_related``.
    """
    (rows,) = fetch_together([_chain_statement(chain_keys(key))])
    return _chain_from_rows(key, rows)


def build_help_panel(*, viewer: Viewer, key: str) -> HelpPanel:
    """Return the panel for ``key`` filtered for ``viewer``, cached while fresh.

    Each list holds only the items of its nearest context level
    (``HelpPanel.focused``). The cached panel is the same for a whole
    audience. An owner of held FAQ entries also gets their held entries for
    the context, added afterwards.
    """
    require_declared_for(viewer, key)
    version, may_own = read_help_version(viewer)
    panel: HelpPanel = cached_panel(
        key,
        viewer_audience(viewer),
        lambda: compute_help_panel(viewer=viewer, key=key).focused(),
        version=version,
    )
    if not may_own or not isinstance(viewer, User):
        return panel
    held = held_faq_items(viewer, key, version)
    if not held:
        return panel
    return replace(panel, faq_entries=[*held, *panel.faq_entries])


def read_help_version(viewer: Viewer) -> tuple[int, bool]:
    """Return the help version and whether ``viewer`` may own some FAQ entry.

    Stand-ins are known by their role. An employee is a super-user when
    they have an assignment, read in the version's statement, so no reader
    pays a query for it. ``held_faq_items`` then applies the full
    ``FaqOwnership`` rule.
    """
    if not isinstance(viewer, User) or viewer.is_external:
        return current_help_version(), False
    if FaqOwnership(viewer).owns_all:
        return current_help_version(), True
    return help_version_and_assignment(viewer.pk)


def held_faq_items(viewer: User, key: str, version: int) -> list[FaqItem]:
    """Return the held FAQ entries on ``key``'s context chain that ``viewer`` owns.

    The held entries on the chain are cached for everyone per help version
    (``cached_held_entries``), and each reader's are picked by the one
    ``FaqOwnership`` rule. A super-user's functions cost one query, and
    only when the chain has held entries. At most ``HELP_PANEL_LIMIT``.
    """
    candidates = cached_held_entries(
        key, version, lambda: _held_entries_on_chain(chain_keys(key))
    )
    if not candidates:
        return []
    ownership = FaqOwnership(viewer)
    owned = [item for item, function_id in candidates if ownership.covers(function_id)]
    return owned[: settings.HELP_PANEL_LIMIT]


def _held_entries_on_chain(keys: list[str]) -> list[tuple[FaqItem, int | None]]:
    """Return every held entry on ``keys`` with its CRM function id, ranked.

    ``keys`` is the context chain, most specific first. Entries come in the
    order of their most specific key, then newest first.
    """
    rows = (
        FaqEntry.objects.filter(owners_only=True, contexts__key__in=keys)
        .order_by("-updated_at", "pk")
        .values_list("pk", "question", "answer_html", "contexts__key", "crm_function")
    )
    level = {key: index for index, key in enumerate(keys)}
    nearest: dict[int, tuple[int, int, FaqItem, int | None]] = {}
    for position, (pk, question, answer_html, context_key, function_id) in enumerate(
        rows
    ):
        rank = (level[context_key], position)
        if pk in nearest and nearest[pk][:2] <= rank:
            continue
        item = FaqItem(pk, question, answer_html, context_key, held=True)
        nearest[pk] = (*rank, item, function_id)
    ranked = sorted(nearest.values(), key=lambda entry: entry[:2])
    return [(item, function_id) for _, _, item, function_id in ranked]


def viewer_audience(viewer: Viewer) -> str:
    """Name the group whose members all see the same panel for a key.

    Employees of one learner group see the same panel; so do the contacts
    of one customer company, since a customer's questions are shown only
    to that company.
    """
    if not isinstance(viewer, User):
        return "none"
    if viewer.is_external:
        return f"external:{viewer.customer_id}"
    return f"internal:{viewer.learner_group_id or '-'}"


def compute_help_panel(*, viewer: Viewer, key: str) -> HelpPanel:
    """Build the panel from the database, bypassing the cache.

    Four statements: the context chain, the census of both item lists and
    the super-users go together (one round trip on PostgreSQL), then one
    statement reads the ranked rows. A fifth finds the FAQ entries made from
    a listed question's answer, only when both lists have items.
    """
    keys = chain_keys(key)
    group_id = viewer.learner_group_id if isinstance(viewer, User) else None
    read = PanelRead(
        sources=[
            ItemSource(
                FaqEntry,
                compiled_rule(published_faq_entries, viewer),
                ("question", "answer_html"),
            ),
            ItemSource(
                Document,
                compiled_rule(visible_documents, viewer),
                ("title", "summary"),
            ),
        ],
        questions=compiled_rule(visible_questions_outside_private, viewer),
        keys=keys,
        group_id=group_id,
        limit=settings.HELP_PANEL_LIMIT,
    )
    census = read.census()
    people = _super_users_statement(viewer, keys)
    statements = [_chain_statement(keys)]
    statements += [statement for statement in (census, people) if statement]
    results = iter(fetch_together(statements))

    chain = _chain_from_rows(key, next(results))
    census_row = next(results)[0] if census else ()
    super_users = _super_users_from_rows(next(results)) if people else []
    rows = read.rows(chain, census_row)
    faq_rows, document_rows = rows.items
    faq_entries = [
        FaqItem(pk, question, answer_html, context.key)
        for context, (pk, question, answer_html) in faq_rows
    ]
    answered_questions = [
        AnsweredQuestion(pk, title, context.key)
        for context, (pk, title) in rows.questions
    ]
    return HelpPanel(
        context=chain[0],
        chain=chain,
        crm_function=next(
            (context.crm_function for context in chain if context.crm_function), None
        ),
        faq_entries=faq_entries,
        documents=[
            DocumentItem(pk, title, summary, context.key)
            for context, (pk, title, summary) in document_rows
        ],
        answered_questions=answered_questions,
        super_users=super_users,
        faq_source_questions=_faq_source_questions(faq_entries, answered_questions),
    )


def _faq_source_questions(
    faq_entries: list[FaqItem], questions: list[AnsweredQuestion]
) -> dict[int, int]:
    """Map each FAQ entry made from an answer to one of ``questions`` to it.

    One more statement, sent only when both lists have items. It is written
    as SQL because building it through the ORM cost about as much CPU as
    the rest of an uncached panel's Python.
    """
    if not faq_entries or not questions:
        return {}
    faq_ids = [entry.pk for entry in faq_entries]
    question_ids = [question.pk for question in questions]
    sql = f"""
        SELECT faq.id, answer.question_id
        FROM {_table(FaqEntry)} faq
        JOIN {_table(Answer)} answer ON answer.id = faq.source_answer_id
        WHERE faq.id IN ({", ".join(["%s"] * len(faq_ids))})
          AND answer.question_id IN ({", ".join(["%s"] * len(question_ids))})
    """  # noqa: S608 (only names and placeholders are formatted in)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*faq_ids, *question_ids])
        return {entry_pk: question_pk for entry_pk, question_pk in cursor.fetchall()}


def _super_users_statement(viewer: Viewer, keys: list[str]) -> Statement | None:
    """Return the statement listing the super-users, None for a customer account.

    The function is the one of the most specific context in ``keys`` that
    has one, as ``HelpPanel.crm_function``. Its active super-users come
    with those available now first, and scripted accounts are left out as
    ``User.objects.listed`` leaves them out. No function gives no rows.
    """
    if not isinstance(viewer, User) or viewer.is_external:
        return None
    available, params = available_now_sql("person.id")
    quote = connection.ops.quote_name
    function = f"""
        SELECT crm_function_id FROM {_table(HelpContext)}
        WHERE {quote("key")} IN ({", ".join(["%s"] * len(keys))})
          AND crm_function_id IS NOT NULL
        ORDER BY depth DESC LIMIT 1
    """  # noqa: S608 (only names and placeholders are formatted in)
    sql = f"""
        SELECT person.username, person.first_name, person.last_name, person.title,
               {available} AS available_now
        FROM {_table(User)} person
        JOIN {_table(SuperUserAssignment)} assignment
          ON assignment.person_id = person.id
        WHERE assignment.crm_function_id = ({function}) AND person.is_active
          AND NOT person.is_scripted
        ORDER BY available_now DESC, person.first_name, person.last_name
    """  # noqa: S608 (only table names and placeholders are formatted in)
    return sql, [*params, *keys]


def _super_users_from_rows(rows: list[tuple[Any, ...]]) -> list[SuperUser]:
    return [
        SuperUser(
            username=username,
            # As ``User.display_name``: the full name, else the username.
            name=f"{first_name} {last_name}".strip() or username,
            title=title,
            available=bool(available_now),
        )
        for username, first_name, last_name, title, available_now in rows
    ]


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def live_statuses(person_ids: Sequence[int]) -> dict[int, str]:
    """Map each person in ``person_ids`` with a status in force to that status.

    The rule of ``available_now_sql``: a status holds until its end time,
    or for ``HELP_AVAILABILITY_HOURS`` after it was set. A person with no
    status in force is left out.
    """
    now = timezone.now()
    fresh_since = now - timedelta(hours=settings.HELP_AVAILABILITY_HOURS)
    rows = Availability.objects.filter(person_id__in=list(person_ids)).filter(
        Q(until__gt=now) | Q(until__isnull=True, updated_at__gte=fresh_since)
    )
    return dict(rows.values_list("person_id", "status"))


def available_now_sql(person_id: str) -> tuple[str, list[Any]]:
    """Return whether the person ``person_id`` names is available now, as SQL.

    A status with an end time holds until then; one without holds for
    ``HELP_AVAILABILITY_HOURS`` after it was set, so a status set last week
    does not claim someone is at their desk today.
    """
    now = timezone.now()
    fresh_since = now - timedelta(hours=settings.HELP_AVAILABILITY_HOURS)
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"EXISTS (SELECT 1 FROM {_table(Availability)} availability "  # noqa: S608
        f"WHERE availability.person_id = {person_id} AND availability.status = %s "
        "AND (availability.until > %s OR (availability.until IS NULL "
        "AND availability.updated_at >= %s)))"
    )
    return sql, [Availability.Status.AVAILABLE.value, adapt(now), adapt(fresh_since)]
