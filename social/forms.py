from django import forms

from social.models import Reaction
from social.services import MAX_COMMENT_LENGTH, MAX_POST_LENGTH


class PostForm(forms.Form):
    body = forms.CharField(
        label="Share something",
        max_length=MAX_POST_LENGTH,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Share a tip; use #hashtags to file it."}
        ),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    parent = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ToggleForm(forms.Form):
    """The end state (on or off) a reaction, bookmark or helpful button requests."""

    active = forms.TypedChoiceField(
        choices=[("1", "on"), ("0", "off")], coerce=lambda value: value == "1"
    )


class ReactionForm(ToggleForm):
    kind = forms.ChoiceField(choices=Reaction.Kind.choices)
