"""People, their roles, learner groups and the CRM functions they work in."""

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    SALES_REP = "sales_rep", "Sales representative"
    FINANCE_CLERK = "finance_clerk", "Operations/finance clerk"
    WAREHOUSE = "warehouse", "Warehouse worker"
    CUSTOMER = "customer", "Customer"
    MANAGER = "manager", "Manager"
    FACILITATOR = "facilitator", "Learning facilitator"
    HR = "hr", "HR"
    IT = "it", "IT"
    EXECUTIVE = "executive", "Executive"
    MODERATOR = "moderator", "Moderator"


class LearnerGroup(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80, unique=True)
    is_external = models.BooleanField(
        default=False, help_text="Whether the group is made of customer accounts."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CrmFunction(models.Model):
    """An area of the CRM (order entry, payments...) with its own super-users."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class PersonManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> "User":
        # Sign-in matches the username case-insensitively, like the unique index.
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person who signs in: an employee or a customer's contact."""

    role = models.CharField(max_length=20, choices=Role.choices)
    title = models.CharField(max_length=120, blank=True)
    learner_group = models.ForeignKey(
        LearnerGroup, null=True, blank=True, on_delete=models.PROTECT
    )
    crm_functions = models.ManyToManyField(CrmFunction, blank=True)
    customer = models.ForeignKey(
        "reconciliation.Party",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
        help_text="The customer company a customer account belongs to.",
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    employee_number = models.CharField(max_length=40, blank=True)
    headline = models.CharField(
        max_length=160, blank=True, help_text="One line shown under the name."
    )
    about = models.TextField(blank=True, help_text="Markdown, shown on the profile.")
    about_html = models.TextField(
        blank=True, help_text="``about`` rendered, sanitized."
    )
    visible_to_customers = models.BooleanField(
        default=False,
        help_text="Whether customer accounts may find and open this staff profile.",
    )

    objects: ClassVar[PersonManager] = PersonManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="user_email_ci_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(role="customer", customer__isnull=False)
                | (~models.Q(role="customer") & models.Q(customer__isnull=True)),
                name="user_customer_iff_external",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_external(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class SuperUserAssignment(models.Model):
    """Names a person super-user for one CRM function; set by a manager."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="super_user_assignments",
    )
    crm_function = models.ForeignKey(
        CrmFunction, on_delete=models.CASCADE, related_name="super_user_assignments"
    )
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    named_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person", "crm_function"], name="super_user_once_per_function"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} for {self.crm_function}"


class Skill(models.Model):
    """A skill people list on their profile, stored under its normalized name."""

    name = models.CharField(
        max_length=50, unique=True, help_text="NFKC, case-folded: the lookup key."
    )
    display_name = models.CharField(
        max_length=50, help_text="The spelling of the first person who listed it."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name


class PersonSkill(models.Model):
    """A skill listed on one person's profile."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="skill_links"
    )
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="holders")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "skill"], name="person_skill_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} knows {self.skill}"


class Endorsement(models.Model):
    """A colleague vouching for a skill on someone's profile."""

    endorser = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="endorsements_given",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="endorsements_received",
    )
    skill = models.ForeignKey(
        Skill, on_delete=models.CASCADE, related_name="endorsements"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endorser", "person", "skill"], name="endorsement_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(endorser=models.F("person")),
                name="endorsement_not_self",
            ),
        ]
        indexes = [models.Index(fields=["person", "skill"])]

    def __str__(self) -> str:
        return f"{self.endorser} endorses {self.person} for {self.skill}"
