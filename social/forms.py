from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.models import User
from communities.models import Community
from core.forms import ExplainedForm
from core.numbers import AsciiIntegerField
from library.uploads import UploadError
from social.models import Post, Reaction
from social.services import MAX_COMMENT_LENGTH, MAX_POST_LENGTH
from social.services.attachments import check_attachments
from social.services.posts import (
    MAX_LONG_FORM_LENGTH,
    MAX_SUMMARY_LENGTH,
    MAX_TITLE_LENGTH,
    publish_post,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files; the post service checks each one."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        return [
            super(MultipleFileField, self).clean(item, initial)
            for item in files
            if item
        ]


class PostForm(ExplainedForm):
    value_names = {
        "body": "The post",
        "attachments": "The attachment",
        "community": "The community",
    }

    body = forms.CharField(
        label="Share something",
        max_length=MAX_POST_LENGTH,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Share a tip; use #hashtags to file it."}
        ),
    )
    attachments = MultipleFileField(
        label="Attach images or files (optional)",
        required=False,
        help_text="Up to four: images, PDF, Office files or plain text.",
    )


class CommunityChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A community choice that marks the communities customers can read."""

    def label_from_instance(self, obj: Community) -> str:
        if obj.visibility == Community.Visibility.CUSTOMER:
            return f"{obj.name} (customers can read it)"
        return obj.name


def publish_form_post(form: "PostForm", *, author: User, community: Community) -> int:
    """Publish the valid ``form``'s post in ``community``.

    Return 0 when it is published. Otherwise add the error to the form and
    return the HTTP status to render it with. ``PermissionDenied`` is left
    to the caller.
    """
    try:
        attachments = check_attachments(form.cleaned_data["attachments"])
        publish_post(
            author=author,
            community=community,
            body=form.cleaned_data["body"],
            attachments=attachments,
        )
    except UploadError as error:
        form.add_error("attachments", str(error))
        return error.status
    except ValidationError as error:
        form.add_error("body", error)
        return 422
    return 0


class HomePostForm(PostForm):
    """A short post from the home feed, in a community the author picks.

    No community is chosen in advance, so nobody posts where customers read
    by accident. The view limits the choices and the post service checks
    again that the author may post there.
    """

    community = CommunityChoiceField(
        label="Community",
        queryset=Community.objects.none(),
        to_field_name="slug",
        empty_label="Choose a community",
        error_messages={
            "required": "Choose the community to post in.",
            "invalid_choice": "%(value)s is not a community you can post in: "
            "choose one from the list.",
        },
    )
    field_order = ["community", "body", "attachments"]

    def __init__(
        self, *args: Any, communities: QuerySet[Community], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        community_field = cast(
            "forms.ModelChoiceField[Community]", self.fields["community"]
        )
        community_field.queryset = communities


class CommentForm(ExplainedForm):
    value_names = {"body": "The comment", "parent": "The parent comment"}

    body = forms.CharField(
        label="Comment",
        max_length=MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    parent = AsciiIntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class ToggleForm(ExplainedForm):
    """The end state (on or off) a reaction, bookmark or helpful button requests."""

    active = forms.TypedChoiceField(
        choices=[("1", "on"), ("0", "off")], coerce=lambda value: value == "1"
    )
    value_names = {"active": "The on or off value", "kind": "The reaction"}
    empty_hints = {"active": "send 1 or 0"}


class ReactionForm(ToggleForm):
    kind = forms.ChoiceField(choices=Reaction.Kind.choices)


class LongFormEditForm(ExplainedForm):
    """The heading and text of a blog post or an announcement."""

    value_names = {
        "title": "The title",
        "summary": "The summary",
        "body": "The text",
        "kind": "The kind of post",
        "community": "The community",
    }

    title = forms.CharField(label="Title", max_length=MAX_TITLE_LENGTH)
    summary = forms.CharField(
        label="Summary (optional)",
        max_length=MAX_SUMMARY_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or two sentences shown in feeds and lists.",
    )
    body = forms.CharField(
        label="Text",
        max_length=MAX_LONG_FORM_LENGTH,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Markdown. Hashtags in the text file the post under those tags.",
    )


class LongFormPostForm(LongFormEditForm):
    """A blog post or an announcement; the view limits kinds and communities."""

    kind = forms.ChoiceField(
        label="Kind",
        choices=[
            (Post.Kind.BLOG, "Blog post"),
            (Post.Kind.ANNOUNCEMENT, "Announcement"),
        ],
        widget=forms.RadioSelect,
        initial=Post.Kind.BLOG,
    )
    community = forms.ModelChoiceField(
        label="Community",
        queryset=Community.objects.none(),
        to_field_name="slug",
        help_text="Who can read the post: the people who can see this community.",
    )
    field_order = ["kind", "community", "title", "summary", "body"]

    def __init__(
        self,
        *args: Any,
        communities: QuerySet[Community],
        may_announce: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        community_field = cast(
            "forms.ModelChoiceField[Community]", self.fields["community"]
        )
        community_field.queryset = communities
        self.may_announce = may_announce

    def clean_kind(self) -> str:
        kind: str = self.cleaned_data["kind"]
        if kind == Post.Kind.ANNOUNCEMENT and not self.may_announce:
            raise forms.ValidationError(
                "Only executives and learning facilitators can publish "
                "announcements: publish it as a blog post."
            )
        return kind
