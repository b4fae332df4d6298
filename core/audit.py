"""Write audit events for business state changes."""

from typing import Any

from django.db import models

from core.models import AuditEvent


def record_event(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    source: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append an audit event for ``target``; call it inside the write's transaction."""
    is_person = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if is_person else None,
        actor_name=actor.get_full_name() or actor.get_username() if is_person else "",
        actor_role=getattr(actor, "role", "") if is_person else "",
        action=action,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        before=before or {},
        after=after or {},
        reason=reason,
        source=source,
    )
