"""The demo super-users' availability, as on a working day.

A super-user without a status is not available, so on a fresh demo the
help panel would offer no one to ask. Each ``load_demo`` run starts a
working day: every demo super-user whose own status no longer holds is
set "Available now" for ``HELP_AVAILABILITY_HOURS``. A status someone set
that still holds is kept.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from assist.models import Availability
from assist.services import set_availability
from demo.knowledge import SUPER_USERS


def start_working_day() -> list[str]:
    """Make the demo super-users available unless their own status holds.

    Returns the usernames set available, in username order.
    """
    now = timezone.now()
    holding = Availability.objects.filter(
        Q(until__gt=now)
        | Q(
            until__isnull=True,
            updated_at__gte=now - timedelta(hours=settings.HELP_AVAILABILITY_HOURS),
        )
    ).values("person_id")
    usernames = sorted({name for names in SUPER_USERS.values() for name in names})
    people = (
        User.objects.filter(
            username__in=usernames,
            is_active=True,
            super_user_assignments__isnull=False,
        )
        .exclude(pk__in=holding)
        .distinct()
        .order_by("username")
    )
    started = []
    for person in people:
        set_availability(
            person=person,
            status=Availability.Status.AVAILABLE,
            hours=settings.HELP_AVAILABILITY_HOURS,
        )
        started.append(person.username)
    return started
