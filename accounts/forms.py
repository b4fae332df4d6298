from django import forms
from django.core.exceptions import ValidationError

from accounts.models import CrmFunction
from accounts.selectors import MAX_QUERY_LENGTH, DirectoryFilter
from accounts.skills import MAX_SKILLS, normalize_skill
from core.forms import ExplainedForm
from core.text import clean_line


def _clean_query(value: str, label: str) -> str:
    cleaned = clean_line(value)
    if len(cleaned) > MAX_QUERY_LENGTH:
        raise ValidationError(
            f"The {label} search is {len(cleaned)} characters long; the limit is "
            f"{MAX_QUERY_LENGTH}: search for fewer words."
        )
    return cleaned


AUDIENCES = [("", "Everyone"), ("staff", "Staff"), ("customers", "Customers")]


class DirectoryForm(ExplainedForm):
    """Parse the people directory's search box and filters."""

    value_names = {
        "q": "The name search",
        "skill": "The skill search",
        "function": "The CRM function",
    }

    q = forms.CharField(label="Name", required=False, strip=False)
    skill = forms.CharField(label="Skill", required=False, strip=False)
    function = forms.CharField(label="CRM function", required=False, strip=False)
    audience = forms.ChoiceField(
        label="Who",
        required=False,
        choices=AUDIENCES,
        error_messages={
            "invalid_choice": "The value %(value)r is not a choice for Who: pick "
            "everyone, staff or customers."
        },
    )

    def clean_q(self) -> str:
        return _clean_query(self.cleaned_data["q"], "name")

    def clean_skill(self) -> str:
        return normalize_skill(_clean_query(self.cleaned_data["skill"], "skill"))

    def clean_function(self) -> CrmFunction | None:
        slug = clean_line(self.cleaned_data["function"])
        if not slug:
            return None
        function = CrmFunction.objects.filter(slug=slug).first()
        if function is None:
            raise ValidationError(
                f"No CRM function has the slug {slug[:MAX_QUERY_LENGTH]!r}: pick "
                "one from the list."
            )
        return function

    def directory_filter(self) -> DirectoryFilter:
        return DirectoryFilter(
            text=self.cleaned_data["q"],
            skill=self.cleaned_data["skill"],
            crm_function=self.cleaned_data["function"],
            audience=self.cleaned_data["audience"],
        )


class ProfileForm(ExplainedForm):
    """Parse the "Edit profile" form. ``update_profile`` checks the values."""

    value_names = {
        "headline": "The headline",
        "about": "The about text",
        "skills": "The skill list",
        "visible_to_customers": "The customer visibility",
    }

    # Not required and not stripped: the service cleans each value, and its
    # messages name the value and the limit.
    headline = forms.CharField(
        label="Headline",
        required=False,
        strip=False,
        help_text="One line under your name, such as 'Cash application lead'.",
    )
    about = forms.CharField(
        label="About",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Markdown: what you work on and what colleagues can ask you.",
    )
    skills = forms.CharField(
        label="Skills",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"One per line or separated by commas, up to {MAX_SKILLS}.",
    )
    visible_to_customers = forms.BooleanField(
        label="Show my profile to customer accounts",
        required=False,
        help_text="Customers then see your name, title, headline, about text, "
        "CRM functions, skills with endorsement counts, super-user badges and "
        "your posts in spaces they can read, but never your e-mail, learner "
        "group, manager, endorsers or followers.",
    )


def _is_on(value: str) -> bool:
    return value == "1"


class ToggleForm(forms.Form):
    """Parse a button that turns something on (``active=1``) or off (``active=0``)."""

    active = forms.TypedChoiceField(
        choices=[("1", "on"), ("0", "off")],
        coerce=_is_on,
        error_messages={
            "required": "The form sent no 'active' value: send 1 or 0.",
            "invalid_choice": "The 'active' value %(value)r is invalid: send 1 or 0.",
        },
    )
