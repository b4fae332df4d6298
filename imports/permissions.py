"""The roles that may set up import sources and import files."""

from accounts.models import Role, User
from accounts.permissions import Viewer

# Finance clerks and finance managers import the documents they reconcile; IT
# sets up the sources and mappings for new systems. Customers never import.
IMPORT_ROLES = frozenset({Role.FINANCE_CLERK, Role.MANAGER, Role.IT})


def can_import(viewer: Viewer) -> bool:
    return isinstance(viewer, User) and viewer.role in IMPORT_ROLES
