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

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import CrmFunction, User
from accounts.permissions import Viewer
from answers.selectors import visible_faq_entries
from assist.caching import cached_panel
from assist.contexts import DECLARED_KEYS
from assist.models import Availability, HelpContext
from assist.ranking import ranked_answered_questions, ranked_items
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


def context_chain(key: str) -> list[HelpContext]:
    """Return the context for ``key`` and its ancestors, most specific first."""
    parts = require_declared(key).split(".")
    prefixes = [".".join(parts[: index + 1]) for index in range(len(parts))]
    rows = list(
        HelpContext.objects.filter(key__in=prefixes)
        .select_related("crm_function")
        .order_by("-depth")
    )
    if not rows or rows[0].key != key:
        raise UnknownContextError(key)
    return rows


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
    limit = settings.HELP_PANEL_LIMIT
    group_id = viewer.learner_group_id if isinstance(viewer, User) else None
    faq_rows = ranked_items(
        visible_faq_entries(viewer),
        chain=chain,
        group_id=group_id,
        columns=("question", "answer_html"),
        limit=limit,
    )
    document_rows = ranked_items(
        visible_documents(viewer),
        chain=chain,
        group_id=group_id,
        columns=("title", "summary"),
        limit=limit,
    )
    question_rows = ranked_answered_questions(viewer, chain=chain, limit=limit)
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
            for context, (pk, title) in question_rows
        ],
        super_users=list_super_users(viewer=viewer, crm_function=crm_function),
    )


def list_super_users(
    *, viewer: Viewer, crm_function: CrmFunction | None
) -> list[SuperUser]:
    """Return the function's super-users, those available now first.

    Customer accounts get none listed.
    """
    if crm_function is None or not isinstance(viewer, User) or viewer.is_external:
        return []
    people = (
        User.objects.filter(
            super_user_assignments__crm_function=crm_function, is_active=True
        )
        .annotate(available_now=available_now_expression())
        .order_by("-available_now", "first_name", "last_name")
        .only("username", "first_name", "last_name", "title")
    )
    return [
        SuperUser(
            username=person.username,
            name=person.display_name,
            title=person.title,
            available=bool(person.available_now),
        )
        for person in people
    ]


def available_now_expression() -> Exists:
    """Return whether a person said they are available and it still holds.

    A status with an end time holds until then; one without holds for
    ``HELP_AVAILABILITY_HOURS`` after it was set, so a status set last week
    does not claim someone is at their desk today.
    """
    now = timezone.now()
    fresh_since = now - timedelta(hours=settings.HELP_AVAILABILITY_HOURS)
    return Exists(
        Availability.objects.filter(
            person=OuterRef("pk"), status=Availability.Status.AVAILABLE
        ).filter(Q(until__gt=now) | Q(until__isnull=True, updated_at__gte=fresh_since))
    )
