"""Pages and htmx endpoints for one post and its conversation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.authors import hidden_author_labels
from core.http import AuthenticatedRequest
from core.numbers import InvalidNumberError, parse_positive_int
from library.files import download_filename, file_response
from social.forms import (
    CommentForm,
    LongFormEditForm,
    PostForm,
    ReactionForm,
    ToggleForm,
)
from social.models import Comment, Post, PostAttachment
from social.selectors import (
    access_comment,
    access_post,
    attach_conversations,
    bookmarked_posts,
    can_moderate,
    comment_page_count,
    comments_page,
    page_of_comment,
)
from social.services import (
    can_post_in,
    delete_comment,
    delete_post,
    edit_comment,
    edit_post,
    post_comment,
    set_bookmark,
    set_helpful,
    set_reaction,
)
from social.services.announcements import mark_announcement_read
from social.services.posts import LONG_FORM_KINDS

BOOKMARK_PAGE_LENGTH = 50


def _page_number(request: AuthenticatedRequest, post: Post) -> int:
    """Return the thread page that ``?page=`` names: 404 past the last page.

    Raises InvalidNumberError when the text is not a page number.
    """
    raw = request.GET.get("page", "1")
    page = parse_positive_int(raw, name="page", expected="a page number")
    last = comment_page_count(post)
    if page > last:
        raise Http404(f"No page {raw!r} in this thread: pages run from 1 to {last}.")
    return page


def _bad_request(error: InvalidNumberError) -> HttpResponse:
    return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")


def _thread_context(
    request: AuthenticatedRequest, post: Post, page: int
) -> dict[str, object]:
    last = comment_page_count(post)
    comments = comments_page(post, page)
    authors = [post.author_id]
    for comment in comments:
        authors.append(comment.author_id)
        if comment.parent is not None:
            authors.append(comment.parent.author_id)
    return {
        "post": post,
        "comments": comments,
        "hidden_authors": hidden_author_labels(request.user, authors),
        "page": page,
        "next_page": page + 1 if page < last else None,
        "previous_page": page - 1 if page > 1 else None,
        "may_comment": not post.is_deleted
        and can_post_in(request.user, post.community),
        "may_moderate": can_moderate(request.user, post.community),
    }


def _render_post_page(
    request: AuthenticatedRequest,
    post: Post,
    *,
    page: int = 1,
    form: CommentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    attach_conversations(request.user, [post])
    context = _thread_context(request, post, page)
    context["comment_form"] = form or CommentForm()
    return render(request, "social/post_detail.html", context, status=status)


@login_required
def post_detail(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    post = access_post(request.user, post_id)
    try:
        page = _page_number(request, post)
    except InvalidNumberError as error:
        return _bad_request(error)
    # Opening an announcement counts as reading it, so it leaves the feed's top.
    if post.kind == Post.Kind.ANNOUNCEMENT:
        mark_announcement_read(person=request.user, post=post)
    return _render_post_page(request, post, page=page)


@login_required
def comment_list(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    """Return one page of the thread as a partial, for "load more"."""
    post = access_post(request.user, post_id)
    try:
        page = _page_number(request, post)
    except InvalidNumberError as error:
        return _bad_request(error)
    context = _thread_context(request, post, page)
    return render(request, "social/_comment_page.html", context)


@login_required
def comment_permalink(
    request: AuthenticatedRequest, post_id: int, comment_id: int
) -> HttpResponse:
    comment = access_comment(request.user, comment_id)
    if comment.post_id != post_id:
        raise Http404("No comment found with that number.")
    url = reverse("posts:post_detail", args=[post_id])
    return redirect(f"{url}?page={page_of_comment(comment)}#comment-{comment.pk}")


@require_POST
@login_required
def comment_create(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    post = access_post(request.user, post_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _render_post_page(request, post, form=form, status=422)

    parent_id = form.cleaned_data["parent"]
    parent = access_comment(request.user, parent_id) if parent_id else None
    try:
        comment = post_comment(
            author=request.user,
            post=post,
            body=form.cleaned_data["body"],
            parent=parent,
        )
    except ValidationError as error:
        form.add_error("body", error)
        return _render_post_page(request, post, form=form, status=422)
    return redirect("posts:comment_permalink", post_id=post.pk, comment_id=comment.pk)


def _edit_form(
    post: Post, data: QueryDict | None = None
) -> PostForm | LongFormEditForm:
    """Return the edit form of ``post``: text only, or heading and text."""
    if post.kind in LONG_FORM_KINDS:
        initial = {"title": post.title, "summary": post.summary, "body": post.body}
        return LongFormEditForm(data, initial=initial)
    return PostForm(data, initial={"body": post.body})


@login_required
def post_edit(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    """Let the author change a post's text, and a blog post's title and summary."""
    post = access_post(request.user, post_id)
    if post.author_id != request.user.pk:
        raise PermissionDenied("Only the author of a post can edit it.")
    if request.method != "POST":
        form = _edit_form(post)
        return render(request, "social/post_edit.html", {"post": post, "form": form})

    form = _edit_form(post, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            edit_post(
                editor=request.user,
                post=post,
                body=data["body"],
                title=data.get("title"),
                summary=data.get("summary"),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Post updated.")
            return redirect("posts:post_detail", post_id=post.pk)
    context = {"post": post, "form": form}
    return render(request, "social/post_edit.html", context, status=422)


@require_POST
@login_required
def post_delete(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    post = access_post(request.user, post_id)
    try:
        delete_post(actor=request.user, post=post)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Post deleted.")
    return redirect("posts:post_detail", post_id=post.pk)


@login_required
def post_history(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    """Show earlier texts of a post to its author and the community's moderators."""
    post = access_post(request.user, post_id)
    if post.author_id != request.user.pk and not can_moderate(
        request.user, post.community
    ):
        raise PermissionDenied(
            "Only the author and moderators of this community can read its history."
        )
    revisions = list(post.revisions.all())
    editors = [revision.edited_by_id for revision in revisions]
    context = {
        "post": post,
        "revisions": revisions,
        "hidden_authors": hidden_author_labels(request.user, editors),
    }
    return render(request, "social/post_history.html", context)


def _comment_for_author(request: AuthenticatedRequest, comment: Comment) -> None:
    if comment.author_id != request.user.pk:
        raise PermissionDenied("Only the author of a comment can edit it.")


@login_required
def comment_edit(request: AuthenticatedRequest, comment_id: int) -> HttpResponse:
    comment = access_comment(request.user, comment_id)
    _comment_for_author(request, comment)
    if request.method != "POST":
        form = CommentForm(initial={"body": comment.body})
        context = {"comment": comment, "form": form}
        return render(request, "social/comment_edit.html", context)

    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            edit_comment(
                editor=request.user, comment=comment, body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error("body", error)
        else:
            return redirect(
                "posts:comment_permalink",
                post_id=comment.post_id,
                comment_id=comment.pk,
            )
    context = {"comment": comment, "form": form}
    return render(request, "social/comment_edit.html", context, status=422)


@require_POST
@login_required
def comment_delete(request: AuthenticatedRequest, comment_id: int) -> HttpResponse:
    comment = access_comment(request.user, comment_id)
    try:
        delete_comment(actor=request.user, comment=comment)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(
        "posts:comment_permalink", post_id=comment.post_id, comment_id=comment.pk
    )


def _bar_response(
    request: AuthenticatedRequest, post_id: int, error: str = ""
) -> HttpResponse:
    """Return the refreshed bar to htmx, or send a plain form back to the post."""
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        return redirect("posts:post_detail", post_id=post_id)

    post = access_post(request.user, post_id)
    attach_conversations(request.user, [post])
    context = {"post": post, "bar_error": error}
    return render(
        request, "social/_post_bar.html", context, status=422 if error else 200
    )


@require_POST
@login_required
def reaction_set(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    post = access_post(request.user, post_id)
    form = ReactionForm(request.POST)
    if not form.is_valid():
        return _bar_response(
            request, post.pk, "Choose a reaction and whether to add it."
        )
    try:
        set_reaction(
            person=request.user,
            post=post,
            kind=form.cleaned_data["kind"],
            active=form.cleaned_data["active"],
        )
    except ValidationError as error:
        return _bar_response(request, post.pk, " ".join(error.messages))
    return _bar_response(request, post.pk)


@require_POST
@login_required
def bookmark_set(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    post = access_post(request.user, post_id)
    form = ToggleForm(request.POST)
    if not form.is_valid():
        return _bar_response(request, post.pk, "Say whether to add or remove it.")
    try:
        set_bookmark(person=request.user, post=post, active=form.cleaned_data["active"])
    except ValidationError as error:
        return _bar_response(request, post.pk, " ".join(error.messages))
    return _bar_response(request, post.pk)


@require_POST
@login_required
def helpful_set(request: AuthenticatedRequest, post_id: int) -> HttpResponse:
    post = access_post(request.user, post_id)
    form = ToggleForm(request.POST)
    if not form.is_valid():
        return _bar_response(request, post.pk, "Say whether to add or remove it.")
    try:
        set_helpful(person=request.user, post=post, active=form.cleaned_data["active"])
    except ValidationError as error:
        return _bar_response(request, post.pk, " ".join(error.messages))
    return _bar_response(request, post.pk)


@login_required
def bookmark_list(request: AuthenticatedRequest) -> HttpResponse:
    posts = list(bookmarked_posts(request.user)[:BOOKMARK_PAGE_LENGTH])
    attach_conversations(request.user, posts)
    return render(request, "social/bookmark_list.html", {"posts": posts})


@login_required
@require_GET
def attachment_file(
    request: AuthenticatedRequest, post_id: int, position: int
) -> HttpResponseBase:
    """Serve one of a post's attachments to a reader of the post, else 404.

    Images open in the page; every other type downloads. The type is the
    one sniffed at upload, sent with ``nosniff``.
    """
    post = access_post(request.user, post_id)
    attachment = PostAttachment.objects.filter(post=post, position=position).first()
    if attachment is None:
        raise Http404("No attachment found with that number.")
    return file_response(
        request,
        handle=default_storage.open(attachment.stored_name, "rb"),
        size=attachment.size,
        content_type=attachment.content_type,
        filename=download_filename(attachment.original_name, attachment.content_type),
        etag=attachment.sha256,
        force_download=not attachment.is_image,
    )
