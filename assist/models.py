"""Help contexts: the keys CRM screens declare so help can be found for them."""

from django.db import models


class HelpContext(models.Model):
    """A screen or record state, such as ``reconciliation.order.short_payment``.

    Keys are dotted paths; the parent of ``a.b.c`` is ``a.b``. The CRM function
    decides whose super-users a question asked here reaches; a context without
    one inherits its parent's.
    """

    key = models.CharField(max_length=120, unique=True)
    title = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    crm_function = models.ForeignKey(
        "accounts.CrmFunction", null=True, blank=True, on_delete=models.PROTECT
    )
    depth = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class HelpContentVersion(models.Model):
    """A counter bumped by every change to what help panels show.

    Cached panels are keyed by it, so every process sees a change as soon as
    the transaction that made it commits, whatever the cache backend.
    """

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"help content version {self.version}"
