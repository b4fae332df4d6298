"""Images and files attached to posts: checked, stored and removed.

A file's type is sniffed from its bytes against the library's allowlist
(images, PDF, Office files, plain text); markup and archives are refused,
so nothing a browser would run is ever served from our origin. An image
passes the poster's structure check and is re-encoded without its
metadata (EXIF, XMP, ICC, text chunks, comments), as a poster is. Files are
stored through Django's storage API under names built from ids and the
digest, and served only through the post's visibility rule.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Sequence

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from library import sniffing
from library.files import clean_filename
from library.uploads import (
    CheckedUpload,
    StoredNames,
    UploadError,
    check_image_ends,
    check_size,
    sha256_of,
    sniff_upload,
    without_metadata,
)
from social.models import Post, PostAttachment

logger = logging.getLogger(__name__)

ATTACHMENT_TYPES = (
    sniffing.IMAGE_TYPES
    | sniffing.OFFICE_TYPES
    | frozenset({sniffing.PDF, sniffing.TEXT})
)


# The end of the message for a file a post cannot carry.
ATTACHMENT_ACCEPTED = (
    "a post carries an image (PNG, JPEG, GIF, WebP), a PDF, an Office file or "
    "plain text: add videos and packages to the library and link to them"
)


# The name of each attachment type in messages.
TYPE_NAMES = {
    sniffing.PDF: "a PDF",
    sniffing.PNG: "a PNG image",
    sniffing.JPEG: "a JPEG image",
    sniffing.GIF: "a GIF image",
    sniffing.WEBP: "a WebP image",
    sniffing.DOCX: "a Word document",
    sniffing.XLSX: "an Excel workbook",
    sniffing.PPTX: "a PowerPoint presentation",
    sniffing.TEXT: "plain text",
}
# Extension to the type it names, for the types a post may carry.
TYPE_OF_EXTENSION = {
    extension: content_type
    for content_type in ATTACHMENT_TYPES
    for extension in sniffing.EXTENSIONS[content_type]
}


def check_extension(name: str, content_type: str) -> None:
    """Raise UploadError when ``name``'s extension names another type.

    A name with no extension, or with one that names no type a post may
    carry, passes, and the file is served under its name plus the extension
    of its real type.
    """
    extension = posixpath.splitext(name)[1].lower()
    named_type = TYPE_OF_EXTENSION.get(extension)
    if named_type is None or named_type == content_type:
        return
    expected = sniffing.EXTENSIONS[content_type][0]
    raise UploadError(
        f"{name} is named as {TYPE_NAMES[named_type]} ({extension}) but contains "
        f"{TYPE_NAMES[content_type]}: rename it to end in {expected}, or choose "
        "the file you meant."
    )


def check_attachments(uploads: Sequence[UploadedFile[bytes]]) -> list[CheckedUpload]:
    """Check the files for one post; raise UploadError naming the first bad one."""
    limit: int = settings.SOCIAL_MAX_ATTACHMENTS
    if len(uploads) > limit:
        raise UploadError(
            f"A post takes at most {limit} attachments, not {len(uploads)}: put "
            "more files in the library and link to them."
        )
    checked = []
    for upload in uploads:
        name = clean_filename(upload.name or "")
        size = upload.size or 0
        check_size(name=name, size=size, limit=settings.SOCIAL_MAX_ATTACHMENT_BYTES)
        if size == 0:
            raise UploadError(f"{name} is empty: choose the file again.")
        content_type = sniff_upload(upload, name=name, accepted=ATTACHMENT_ACCEPTED)
        if content_type not in ATTACHMENT_TYPES:
            raise UploadError(
                f"{name} is {sniffing.TYPE_WORDS[content_type]}, "
                f"but {ATTACHMENT_ACCEPTED}."
            )
        check_extension(name, content_type)
        if content_type in sniffing.IMAGE_TYPES:
            # Others see the image, so it is stored without its metadata.
            check_image_ends(upload, name=name, content_type=content_type)
            upload = without_metadata(upload, name=name, content_type=content_type)
            size = upload.size or 0
        checked.append(
            CheckedUpload(
                upload=upload,
                name=name,
                size=size,
                sha256=sha256_of(upload),
                content_type=content_type,
            )
        )
    return checked


def store_attachments(
    post: Post, checked: Sequence[CheckedUpload], *, stored: StoredNames
) -> list[PostAttachment]:
    """Save the checked files for ``post``; ``stored`` removes them on rollback."""
    rows = []
    for position, item in enumerate(checked, start=1):
        item.upload.seek(0)
        name = stored.save(
            f"posts/{post.pk}/{position}/{item.sha256}", File(item.upload)
        )
        rows.append(
            PostAttachment(
                post=post,
                position=position,
                stored_name=name,
                original_name=item.name[:200],
                content_type=item.content_type,
                size=item.size,
                sha256=item.sha256,
            )
        )
    PostAttachment.objects.bulk_create(rows)
    if rows:
        Post.objects.filter(pk=post.pk).update(attachment_count=len(rows))
        post.attachment_count = len(rows)
    return rows


def remove_attachments(post: Post) -> None:
    """Delete the post's attachments now and their files after commit."""
    names = list(post.attachments.values_list("stored_name", flat=True))
    if not names:
        return
    post.attachments.all().delete()
    Post.objects.filter(pk=post.pk).update(attachment_count=0)
    post.attachment_count = 0

    def delete_files() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("post attachment not deleted: name=%s", name)

    transaction.on_commit(delete_files)
