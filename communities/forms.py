from django import forms

from accounts.models import CrmFunction, LearnerGroup
from communities.models import Community, Membership
from core.forms import ExplainedForm


class CommunityForm(ExplainedForm):
    """Parse the "New community" form; ``create_community`` checks the values."""

    value_names = {
        "name": "The name",
        "purpose": "The purpose",
        "visibility": "The visibility",
        "crm_functions": "The CRM functions",
        "conversation_starters": "The conversation starters text",
    }

    # Not required here: the service's own message for an empty value says more
    # than "This field is required."
    name = forms.CharField(label="Name", required=False, strip=False)
    purpose = forms.CharField(
        label="Purpose",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One or two sentences: who it is for and what they share.",
    )
    visibility = forms.ChoiceField(
        label="Who can see it",
        choices=Community.Visibility.choices,
        initial=Community.Visibility.OPEN,
        widget=forms.RadioSelect,
    )
    crm_functions = forms.ModelMultipleChoiceField(
        label="CRM functions it serves",
        queryset=CrmFunction.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    conversation_starters = forms.CharField(
        label="Conversation starters (optional)",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One short prompt per line, shown while the community has no posts.",
    )

    def starter_lines(self) -> list[str]:
        text: str = self.cleaned_data["conversation_starters"]
        return text.splitlines()


class RoleForm(ExplainedForm):
    value_names = {"role": "The role"}

    role = forms.ChoiceField(choices=Membership.Role.choices)


class RecruitFilterForm(ExplainedForm):
    """Pick the people to list on the recruit page: a learner group, a function."""

    value_names = {"group": "The learner group", "function": "The CRM function"}

    group = forms.ModelChoiceField(
        label="Learner group",
        queryset=LearnerGroup.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Any group",
    )
    function = forms.ModelChoiceField(
        label="CRM function",
        queryset=CrmFunction.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="Any function",
    )
