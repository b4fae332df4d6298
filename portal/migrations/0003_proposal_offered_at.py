"""Store when a proposal reached the customer, and fill it for existing rows.

A proposal was offered when it waits for the customer or the customer
decided it, or when it was withdrawn with a ``proposal.withdrawn`` or
``proposal.outdated`` audit event, which only an offered proposal gets. Its
time is the first move of its case to ``proposed_resolution`` at or after
the proposal was made (that move offers it), else the proposal's own time.
"""

from collections import defaultdict
from datetime import datetime

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

OFFERED_STATES = ("awaiting_customer", "accepted", "rejected")
WITHDRAWN_AFTER_OFFER_ACTIONS = ("proposal.withdrawn", "proposal.outdated")


def fill_offered_at(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    proposal_model = apps.get_model("portal", "ResolutionProposal")
    event_model = apps.get_model("core", "AuditEvent")
    withdrawn_after_offer = set(
        event_model.objects.filter(
            object_type="portal.resolutionproposal",
            action__in=WITHDRAWN_AFTER_OFFER_ACTIONS,
        ).values_list("object_id", flat=True)
    )
    offered = [
        proposal
        for proposal in proposal_model.objects.filter(offered_at__isnull=True)
        if proposal.state in OFFERED_STATES
        or (proposal.state == "withdrawn" and str(proposal.pk) in withdrawn_after_offer)
    ]
    if not offered:
        return
    moves: dict[str, list[datetime]] = defaultdict(list)
    case_events = event_model.objects.filter(
        object_type="reconciliation.discrepancy",
        action="case.state_changed",
        object_id__in={str(proposal.case_id) for proposal in offered},
    ).values_list("object_id", "occurred_at", "after")
    for case_id, occurred_at, after in case_events:
        if isinstance(after, dict) and after.get("state") == "proposed_resolution":
            moves[case_id].append(occurred_at)
    for proposal in offered:
        later = [
            moved
            for moved in moves[str(proposal.case_id)]
            if moved >= proposal.proposed_at
        ]
        proposal.offered_at = min(later, default=proposal.proposed_at)
    proposal_model.objects.bulk_update(offered, ["offered_at"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("portal", "0002_widen_evidence_file_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="resolutionproposal",
            name="offered_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill_offered_at, migrations.RunPython.noop),
    ]
