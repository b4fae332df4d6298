"""Keep usernames and e-mail addresses unique ignoring case, on every engine.

The constraints on ``lower(username)`` and ``lower(email)`` folded only
ASCII letters on SQLite, so "jürgen" and "JÜRGEN" could both be accounts
there, and sign-in (``iexact``) found one spelling on PostgreSQL and not on
SQLite. ``username_key`` and ``email_key`` hold the values folded in Python
(``core.text.fold_case``) under unique indexes.
"""

import unicodedata

from django.db import migrations, models


def folded(value):
    # The same as ``core.text.fold_case``, copied so the migration keeps
    # today's rule if that function changes.
    return unicodedata.normalize("NFKC", value).upper().casefold()


def fill_keys(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    usernames = {}
    emails = {}
    for person in User.objects.order_by("pk"):
        username_key = folded(person.username)
        email_key = folded(person.email)
        if username_key in usernames:
            raise RuntimeError(
                f"Accounts {usernames[username_key]!r} and {person.username!r} have "
                "the same username ignoring case: rename one of them, then run the "
                "migration again."
            )
        if email_key and email_key in emails:
            raise RuntimeError(
                f"Accounts {emails[email_key]!r} and {person.username!r} have the "
                f"same e-mail address ignoring case ({person.email!r}): change one "
                "of them, then run the migration again."
            )
        usernames[username_key] = person.username
        if email_key:
            emails[email_key] = person.username
        User.objects.filter(pk=person.pk).update(
            username_key=username_key, email_key=email_key
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_add_skills_and_endorsements"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=models.CharField(editable=False, max_length=450, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="email_key",
            field=models.CharField(editable=False, max_length=762, null=True),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="username_key",
            field=models.CharField(editable=False, max_length=450, unique=True),
        ),
        migrations.AlterField(
            model_name="user",
            name="email_key",
            field=models.CharField(editable=False, max_length=762),
        ),
        migrations.RemoveConstraint(model_name="user", name="user_username_ci_unique"),
        migrations.RemoveConstraint(model_name="user", name="user_email_ci_unique"),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                condition=models.Q(("email_key", ""), _negated=True),
                fields=("email_key",),
                name="user_email_key_unique",
            ),
        ),
    ]
