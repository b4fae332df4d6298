"""Spell the stored library tags as hashtags, merging those that become one.

A tag named ``#Short Payment`` becomes ``ShortPayment`` with the key
``shortpayment``; when a tag with that key exists already, its items take
the existing tag and the old row goes. A renamed tag keeps its slug, so its
filter address still works. The rule is ``library.tags.hashtag_spelling``,
copied here so that a later change to it does not change this migration.
"""

import unicodedata

from django.db import migrations


def _spelled(name: str) -> str:
    return "".join(name.split()).lstrip("#")


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def respell_tags(apps, schema_editor):
    Tag = apps.get_model("library", "Tag")
    DocumentTag = apps.get_model("library", "DocumentTag")
    for tag in Tag.objects.order_by("pk"):
        name = _spelled(tag.name)
        if name == tag.name or not name:
            continue
        key = _key(name)
        kept = Tag.objects.filter(key=key).exclude(pk=tag.pk).first()
        if kept is None:
            tag.name = name
            tag.key = key
            tag.save(update_fields=["name", "key"])
            continue
        for link in DocumentTag.objects.filter(tag=tag):
            twin = DocumentTag.objects.filter(document_id=link.document_id, tag=kept)
            if twin.exists():
                link.delete()
            else:
                link.tag = kept
                link.save(update_fields=["tag"])
        tag.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0005_withdrawn_items_and_versions"),
    ]

    operations = [
        migrations.RunPython(respell_tags, migrations.RunPython.noop),
    ]
