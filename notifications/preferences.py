"""A person's choice to get notifications by e-mail as well as in the app."""

from django.db import transaction

from accounts.models import User
from core.audit import record_event
from notifications.models import EmailPreference


def wants_notification_emails(*, person: User) -> bool:
    preference = EmailPreference.objects.filter(person=person).first()
    return preference is None or preference.notification_emails


@transaction.atomic
def set_notification_emails(*, person: User, enabled: bool) -> EmailPreference:
    """Turn notification e-mail on or off for ``person``, with an audit event."""
    preference, _ = EmailPreference.objects.select_for_update().get_or_create(
        person=person
    )
    before = preference.notification_emails
    if before == enabled:
        return preference

    preference.notification_emails = enabled
    preference.save(update_fields=["notification_emails", "updated_at"])
    record_event(
        actor=person,
        action="notifications.email_preference_changed",
        target=preference,
        source="screen",
        before={"notification_emails": before},
        after={"notification_emails": enabled},
    )
    return preference
