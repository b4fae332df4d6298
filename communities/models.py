"""Communities (spaces), who belongs to them, and what is pinned in them."""

from collections.abc import Collection, Iterable
from typing import Any, Self

from django.conf import settings
from django.db import models
from django.db.models.fetch_modes import FetchMode

from core.confusables import skeleton
from core.models import TimeStampedModel
from core.querysets import SignalledUpdateQuerySet
from core.text import fold_case

# Case folding can turn one character into three ("ΐ"), so the key of a
# 120-character name may be up to 360 characters long.
NAME_KEY_LENGTH = 360


def name_key(name: str) -> str:
    """Return what two community names share when they differ only in case.

    ``core.text.fold_case``: "Ärger" and "ÄRGER", "Straße" and "STRASSE"
    give one key on every engine.
    """
    return fold_case(name)


def name_skeleton(name: str) -> str:
    """Return what two community names share when they look the same.

    ``core.confusables.skeleton``: it extends ``name_key`` with accents,
    invisible characters, Latin look-alikes ("rn" and "m", "I" and "l") and
    Cyrillic and Greek letters that look like Latin ones. So "Customer
    corner" spelled with a Cyrillic capital es (U+0421) has the skeleton of
    the Latin name.
    """
    return skeleton(name)


class CommunityQuerySet(SignalledUpdateQuerySet["Community"]):
    """Keeps ``name_key`` and ``name_skeleton`` with ``name`` in bulk writes."""

    def bulk_create(
        self, objs: Iterable["Community"], *args: Any, **kwargs: Any
    ) -> list["Community"]:
        communities = list(objs)
        for community in communities:
            community.name_key = name_key(community.name)
            community.name_skeleton = name_skeleton(community.name)
        return super().bulk_create(communities, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        name = kwargs.get("name")
        if name is not None:
            if not isinstance(name, str):
                raise TypeError(
                    "A community's name can only be set to a string, because "
                    "its name_key is computed in Python."
                )
            kwargs["name_key"] = name_key(name)
            kwargs["name_skeleton"] = name_skeleton(name)
        return super().update(**kwargs)


class Community(TimeStampedModel):
    class Visibility(models.TextChoices):
        OPEN = "open", "Open to employees"
        PRIVATE = "private", "Private, on approval"
        CUSTOMER = "customer", "Customer-visible"

    # Unicode letters are kept, so a name in any script gets a readable address.
    slug = models.SlugField(max_length=80, unique=True, allow_unicode=True)
    name = models.CharField(max_length=120, unique=True)
    # ``name_key(name)``: its unique index keeps names unique ignoring case.
    name_key = models.CharField(max_length=NAME_KEY_LENGTH, unique=True, editable=False)
    # ``name_skeleton(name)``: its unique index keeps look-alike names apart,
    # also between two creations at the same instant. NULL marks a community
    # whose name already looked like an older one's when the column was
    # added (migration 0004): renaming it fills the skeleton again. NULL, not
    # "", because the unique index allows any number of NULLs.
    name_skeleton = models.CharField(  # noqa: DJ001
        max_length=NAME_KEY_LENGTH, unique=True, null=True, editable=False
    )
    purpose = models.TextField(blank=True)
    conversation_starters = models.JSONField(
        default=list,
        blank=True,
        help_text="Short prompts (a list of strings) shown while there are no posts.",
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.OPEN
    )
    crm_functions = models.ManyToManyField("accounts.CrmFunction", blank=True)
    learner_group = models.ForeignKey(
        "accounts.LearnerGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="The learner group this community is the home of, if any.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    # ``update()`` sends ``rows_updating``, so FAQ entries made from the
    # changed rows narrow with them (``answers.receivers``).
    objects = CommunityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "communities"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # The name as read from the database, to tell a rename from other saves.
    _loaded_name: str | None = None

    @classmethod
    def from_db(
        cls,
        db: str | None,
        field_names: Collection[str],
        values: Collection[Any],
        *,
        fetch_mode: FetchMode | None = None,
    ) -> Self:
        community = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        community._loaded_name = community.__dict__.get("name")
        return community

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_key = name_key(self.name)
        if not self.keeps_look_alike_mark:
            self.name_skeleton = name_skeleton(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key", "name_skeleton"}
        super().save(*args, **kwargs)

    @property
    def keeps_look_alike_mark(self) -> bool:
        """Whether a row marked as a look-alike keeps its name, so stays marked."""
        return (
            not self._state.adding
            and self.name_skeleton is None
            and self.name == self._loaded_name
        )


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MODERATOR = "moderator", "Moderator"
        MEMBER = "member", "Member"

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="memberships"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community", "person"], name="membership_once_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.community}"


class MembershipRequest(models.Model):
    """A request to join a private community, decided by an owner or moderator."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="membership_requests"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership_requests",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "person"],
                condition=models.Q(status="pending"),
                name="membership_request_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} asks to join {self.community} ({self.status})"


class Invitation(models.Model):
    """An owner's or moderator's invitation for one person to join a community."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="invitations"
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "invitee"],
                condition=models.Q(status="pending"),
                name="invitation_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invitee} invited to {self.community} ({self.status})"


class CommunityPin(models.Model):
    """A post an owner or moderator pinned to the top of its community's feed."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="pins"
    )
    post = models.ForeignKey(
        "social.Post", on_delete=models.CASCADE, related_name="pins"
    )
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    pinned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pinned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "post"], name="community_pin_once_per_post"
            )
        ]

    def __str__(self) -> str:
        return f"Post {self.post_id} pinned in {self.community_id}"
