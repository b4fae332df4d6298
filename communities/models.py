"""Communities (spaces) and who belongs to them."""

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel


class Community(TimeStampedModel):
    class Visibility(models.TextChoices):
        OPEN = "open", "Open to employees"
        PRIVATE = "private", "Private, on approval"
        CUSTOMER = "customer", "Customer-visible"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120, unique=True)
    purpose = models.TextField(blank=True)
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

    class Meta:
        verbose_name_plural = "communities"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
