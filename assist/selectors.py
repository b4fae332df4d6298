"""The help panel: what helps on a screen, ranked for its context.

Content tagged with the requested context comes first, then content tagged
with its parents, nearest first; within one level, more helpful and more
recently updated content ranks higher. The panel reports the most specific
context that had content, so a screen can say when it fell back to a parent.
The panel runs a fixed number of queries whatever the content volume, and
each reads only the first rows of each level (``assist.ranking``).
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from accounts.models import CrmFunction, SuperUserAssignment, User
from accounts.permissions import Viewer
from answers.models import FaqEntry
from answers.selectors import visible_faq_entries, visible_questions_outside_private
from assist.caching import cached_panel
from assist.contexts import DECLARED_KEYS
from assist.models import Availability, HelpContext
from assist.ranking import ItemSource, ranked_panel_rows
from assist.rules import compiled_rule
from library.models import Document
from library.selectors import visible_documents

MAX_SHOWN_KEY = 120


class UnknownContextError(LookupError):
    def __init__(self, key: str) -> None:
        shown = key if len(key) <= MAX_SHOWN_KEY else f"{key[:MAX_SHOWN_KEY]}..."
        super().__init__(
            f"Unknown help context {shown!r}: use a key a CRM screen declares, "
            "such as 'reconciliation.order'."
        )
        self.key = key


def require_declared(key: str) -> str:
    """Return ``key`` if a screen declares it; raise before any query or cache use."""
    if key not in DECLARED_KEYS:
        raise UnknownContextError(key)
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


_CONTEXT_FIELDS = ("id", "key", "title", "parent_id", "crm_function_id", "depth")
_FUNCTION_FIELDS = ("id", "slug", "name", "position")


def context_chain(key: str) -> list[HelpContext]:
    """Return the context for ``key`` and its ancestors, most specific first.

    Each context comes with its CRM function. One plain statement, which
    costs less to build than the same queryset with ``select_related``.
    """
    parts = require_declared(key).split(".")
    prefixes = [".".join(parts[: index + 1]) for index in range(len(parts))]
    quote = connection.ops.quote_name
    columns = [f"level.{quote(name)}" for name in _CONTEXT_FIELDS]
    columns += [f"crm.{quote(name)}" for name in _FUNCTION_FIELDS]
    sql = f"""
        SELECT {", ".join(columns)}
        FROM {_table(HelpContext)} level
        LEFT JOIN {_table(CrmFunction)} crm ON crm.id = level.crm_function_id
        WHERE level.{quote("key")} IN ({", ".join(["%s"] * len(prefixes))})
        ORDER BY level.depth DESC
    """  # noqa: S608 (only names and placeholders are formatted in)
    with connection.cursor() as cursor:
        cursor.execute(sql, prefixes)
        rows = cursor.fetchall()

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


def build_help_panel(*, viewer: Viewer, key: str) -> HelpPanel:
    """Return the panel for ``key`` filtered for ``viewer``, cached while fresh."""
    panel: HelpPanel = cached_panel(
        require_declared(key),
        viewer_audience(viewer),
        lambda: compute_help_panel(viewer=viewer, key=key),
    )
    return panel


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
    """Build the panel from the database, bypassing the cache."""
    chain = context_chain(key)
    crm_function = next(
        (context.crm_function for context in chain if context.crm_function), None
    )
    group_id = viewer.learner_group_id if isinstance(viewer, User) else None
    rows = ranked_panel_rows(
        sources=[
            ItemSource(
                FaqEntry,
                compiled_rule(visible_faq_entries, viewer),
                ("question", "answer_html"),
            ),
            ItemSource(
                Document,
                compiled_rule(visible_documents, viewer),
                ("title", "summary"),
            ),
        ],
        questions=compiled_rule(visible_questions_outside_private, viewer),
        chain=chain,
        group_id=group_id,
        limit=settings.HELP_PANEL_LIMIT,
    )
    faq_rows, document_rows = rows.items
    return HelpPanel(
        context=chain[0],
        chain=chain,
        crm_function=crm_function,
        faq_entries=[
            FaqItem(pk, question, answer_html, context.key)
            for context, (pk, question, answer_html) in faq_rows
        ],
        documents=[
            DocumentItem(pk, title, summary, context.key)
            for context, (pk, title, summary) in document_rows
        ],
        answered_questions=[
            AnsweredQuestion(pk, title, context.key)
            for context, (pk, title) in rows.questions
        ],
        super_users=list_super_users(viewer=viewer, crm_function=crm_function),
    )


def list_super_users(
    *, viewer: Viewer, crm_function: CrmFunction | None
) -> list[SuperUser]:
    """Return the function's active super-users, those available now first.

    Customer accounts get none listed. One plain statement: the ORM's
    version (an annotated queryset) cost more to build than to run.
    """
    if crm_function is None or not isinstance(viewer, User) or viewer.is_external:
        return []
    available, params = available_now_sql("person.id")
    sql = f"""
        SELECT person.username, person.first_name, person.last_name, person.title,
               {available} AS available_now
        FROM {_table(User)} person
        JOIN {_table(SuperUserAssignment)} assignment
          ON assignment.person_id = person.id
        WHERE assignment.crm_function_id = %s AND person.is_active
        ORDER BY available_now DESC, person.first_name, person.last_name
    """  # noqa: S608 (only table names and placeholders are formatted in)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, crm_function.pk])
        rows = cursor.fetchall()
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
