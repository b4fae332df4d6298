from django import forms

from social.services import MAX_POST_LENGTH


class PostForm(forms.Form):
    body = forms.CharField(
        label="Share something",
        max_length=MAX_POST_LENGTH,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Share a tip; use #hashtags to file it."}
        ),
    )
