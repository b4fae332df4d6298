"""People, their roles, learner groups and the CRM functions they work in."""

from collections.abc import Collection, Iterable
from typing import Any, ClassVar, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models.fetch_modes import FetchMode

from core.confusables import skeleton
from core.text import fold_case


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


# Case folding can turn one character into three, so a key may be three
# times as long as the name or address it folds.
USERNAME_KEY_LENGTH = 450
EMAIL_KEY_LENGTH = 762


def key_values(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Return ``values`` with the keys and the skeleton of the username and e-mail.

    ``model`` may be a migration's historical model from before the keys
    (migration 0005) or the skeleton (0007), which gets only the columns it
    has.
    """
    keyed = dict(values)
    names = {field.name for field in model._meta.get_fields()}
    computed = (
        ("username", "username_key", fold_case),
        ("username", "username_skeleton", skeleton),
        ("email", "email_key", fold_case),
    )
    for field, key, compute in computed:
        if field not in values or key not in names:
            continue
        if not isinstance(values[field], str):
            raise TypeError(
                f"A person's {field} can only be set to a string, because its "
                f"{key} is computed in Python."
            )
        keyed[key] = compute(values[field])
    return keyed


def _names(person: models.Model) -> dict[str, Any]:
    return {"username": person.username, "email": person.email}  # type: ignore[attr-defined]


class PersonQuerySet(models.QuerySet["User"]):
    """Keeps the username's and e-mail's keys in the writes that skip ``save()``."""

    def bulk_create(
        self, objs: Iterable["User"], *args: Any, **kwargs: Any
    ) -> list["User"]:
        """Insert ``objs``, or raise ``UsernameClashError`` and insert none.

        A username taken ignoring case, or one that looks like another in
        the batch or in the database, gets the message that names both.
        """
        people = list(objs)
        for person in people:
            for field, value in key_values(self.model, _names(person)).items():
                setattr(person, field, value)
        _check_batch_usernames(people)
        try:
            with transaction.atomic(using=self.db):
                return super().bulk_create(people, *args, **kwargs)
        except IntegrityError as error:
            for person in people:
                _raise_username_clash(person.username, person_id=None, error=error)
            raise

    def update(self, **kwargs: Any) -> int:
        """Update as Django does, or raise ``UsernameClashError`` for the username."""
        username = kwargs.get("username")
        if not isinstance(username, str):
            return super().update(**key_values(self.model, kwargs))
        try:
            with transaction.atomic(using=self.db):
                return super().update(**key_values(self.model, kwargs))
        except IntegrityError as error:
            pks = list(self.values_list("pk", flat=True)[:2])
            person_id = pks[0] if len(pks) == 1 else None
            _raise_username_clash(username, person_id=person_id, error=error)
            raise

    def listed(self) -> "PersonQuerySet":
        """Return the people a list of people may show: every account but scripted ones.

        Every surface that lists people starts here, whether it shows active
        people only or inactive ones too.
        """
        return self.filter(is_scripted=False)


def _raise_username_clash(
    username: str, *, person_id: int | None, error: IntegrityError
) -> None:
    """Raise ``UsernameClashError`` if ``username`` clashes with a stored one.

    Call it after a write that ``error`` rejected has rolled back to its
    savepoint. It returns when the username clashes with no account, so
    the caller re-raises ``error``.
    """
    from accounts.usernames import UsernameClashError, username_clash_message

    message = username_clash_message(username, person_id=person_id, in_import=False)
    if message is not None:
        raise UsernameClashError(username, message) from error


def _check_batch_usernames(people: list["User"]) -> None:
    """Raise ``UsernameClashError`` if two of ``people`` have look-alike usernames.

    Usernames equal ignoring case share a skeleton too, so the skeleton
    finds both kinds of clash.
    """
    from accounts.usernames import UsernameClashError, batch_clash_message

    first_by_skeleton: dict[str, str] = {}
    for person in people:
        if person.username_skeleton is None:
            continue
        earlier = first_by_skeleton.setdefault(
            person.username_skeleton, person.username
        )
        if earlier is not person.username:
            raise UsernameClashError(
                person.username, batch_clash_message(person.username, earlier)
            )


class PersonManager(UserManager["User"]):
    def get_queryset(self) -> PersonQuerySet:
        return PersonQuerySet(self.model, using=self._db)

    def listed(self) -> PersonQuerySet:
        return self.get_queryset().listed()

    def get_by_natural_key(self, username: str | None) -> "User":
        # Sign-in matches the username ignoring case, like its unique key.
        return self.get(username_key=fold_case(username or ""))


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
    # ``core.text.fold_case`` of the username and the e-mail address: their
    # unique indexes keep both unique ignoring case on every engine.
    username_key = models.CharField(
        max_length=USERNAME_KEY_LENGTH, unique=True, editable=False
    )
    email_key = models.CharField(max_length=EMAIL_KEY_LENGTH, editable=False)
    # ``core.confusables.skeleton(username)``: its unique index keeps
    # look-alike usernames apart, also between two creations at the same
    # instant. NULL marks an account whose username already looked like an
    # older account's when the column was added (migration 0007): a rename
    # fills it again. NULL, not "", because the unique index allows any
    # number of NULLs.
    username_skeleton = models.CharField(  # noqa: DJ001
        max_length=USERNAME_KEY_LENGTH, unique=True, null=True, editable=False
    )
    is_scripted = models.BooleanField(
        default=False,
        editable=False,
        help_text=(
            "An account the product acts as, such as the practice sandbox's "
            "scripted manager. Nobody signs in as it, and no list of people "
            "shows it."
        ),
    )

    objects: ClassVar[PersonManager] = PersonManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.UniqueConstraint(
                fields=["email_key"],
                condition=~models.Q(email_key=""),
                name="user_email_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(role="customer", customer__isnull=False)
                | (~models.Q(role="customer") & models.Q(customer__isnull=True)),
                name="user_customer_iff_external",
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    # The username as read from the database, to tell a rename from other saves.
    _loaded_username: str | None = None

    @classmethod
    def from_db(
        cls,
        db: str | None,
        field_names: Collection[str],
        values: Collection[Any],
        *,
        fetch_mode: FetchMode | None = None,
    ) -> Self:
        person = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        person._loaded_username = person.__dict__.get("username")
        return person

    def set_keys(self) -> None:
        """Set the username's key and skeleton and the e-mail's key.

        An account marked as a look-alike (``username_skeleton`` NULL) stays
        marked until its username changes.
        """
        self.username_key = fold_case(self.username)
        if not self.keeps_look_alike_mark:
            self.username_skeleton = skeleton(self.username)
        self.email_key = fold_case(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save the person, or raise ``UsernameClashError`` and write nothing.

        The unique indexes on the username's key and skeleton reject a
        username taken ignoring case or one that looks like another
        account's. The rejected write rolls back to its own savepoint and
        the error names that account.
        """
        self.set_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            keys = {
                "username": ("username_key", "username_skeleton"),
                "email": ("email_key",),
            }
            kwargs["update_fields"] = {
                *update_fields,
                *(
                    key
                    for field, field_keys in keys.items()
                    if field in update_fields
                    for key in field_keys
                ),
            }
        if not self._state.adding and self.username == self._loaded_username:
            # The username's indexes cannot reject a save that keeps it.
            super().save(*args, **kwargs)
            return
        person_id = None if self._state.adding else self.pk
        try:
            with transaction.atomic(using=kwargs.get("using")):
                super().save(*args, **kwargs)
        except IntegrityError as error:
            _raise_username_clash(self.username, person_id=person_id, error=error)
            raise

    def validate_unique(self, exclude: Collection[str] | None = None) -> None:
        """Validate as Django does, then reject a taken or look-alike username.

        A form that runs ``full_clean`` so shows the message of ``save`` as
        an error on the username field, before anything is written.
        """
        super().validate_unique(exclude=exclude)
        if (exclude and "username" in exclude) or self.keeps_look_alike_mark:
            return
        from accounts.usernames import username_clash_message

        person_id = None if self._state.adding else self.pk
        message = username_clash_message(
            self.username, person_id=person_id, in_import=False
        )
        if message is not None:
            raise ValidationError({"username": message})

    @property
    def keeps_look_alike_mark(self) -> bool:
        """Whether a marked look-alike account keeps its username, so stays marked."""
        return (
            not self._state.adding
            and self.username_skeleton is None
            and self.username == self._loaded_username
        )

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
