"""The scope of a work screen: what it reads, whom it acts as, where it links.

The real routes use ``REAL_SCOPE``. The practice sandbox passes a subclass
that reads one sandbox company (``practice.screens.SessionScope``).
"""

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Role, User
from assist.records import NO_RECORD, HelpRecord, offered_record
from reconciliation.models import Company, Discrepancy, SalesOrder
from reconciliation.selectors import access_case, access_order


def require_role(user: User, role: str) -> None:
    if not user.is_active or user.role != role:
        raise PermissionDenied(f"This screen is for the {Role(role).label} role.")


class WorkScope:
    """The records a work screen reads, the person it acts as, and its routes.

    This base class is the real screens' scope: the signed-in person in
    their own role, the orders and cases the selectors let them see, the
    payments of every real company, and the ``reconciliation`` routes.
    """

    # None reads the payments of every real company.
    company: Company | None = None
    # Whether the case page offers to assign the case to someone else.
    offers_assign = True

    def actor(self, user: User, role: str) -> User:
        """Return the person the services act as, or raise 403 for the wrong role."""
        require_role(user, role)
        return user

    def case_worker(self, user: User, case: Discrepancy) -> User:
        """Return the person the case page's services act as on ``case``.

        The case services check themselves who may work the case, so the
        real screens pass the signed-in person unchanged.
        """
        return user

    def order(self, user: User, number: str) -> SalesOrder:
        return access_order(user, number)

    def case(self, user: User, case_id: int) -> Discrepancy:
        return access_case(user, case_id)

    def case_number(self, case: Discrepancy) -> str:
        """Return the number pages and messages show for ``case``: its id here."""
        return str(case.pk)

    def url(self, name: str, *args: object) -> str:
        """Reverse a route of these screens by its ``reconciliation`` name."""
        return reverse(f"reconciliation:{name}", args=args)

    def context(self) -> dict[str, object]:
        """Return what the scope adds to every page, such as a banner's data."""
        return {}

    def help_record(self, record_ref: str) -> str:
        """Return the number of the record the help panel's questions name.

        An empty string withholds the record, whatever its kind.
        """
        return record_ref

    def panel_record(self, viewer: User, record: HelpRecord) -> HelpRecord:
        """Return the record the screen's help panel sends with a question.

        The scope may withhold it (``help_record``). A record the viewer may
        not see is not offered either, because the ask would reject it.
        """
        ref = self.help_record(record.ref) if record else ""
        if not ref:
            return NO_RECORD
        return offered_record(viewer, HelpRecord(record.kind, ref))


REAL_SCOPE = WorkScope()
