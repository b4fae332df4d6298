"""Mark the accounts the product acts as, so no list of people shows them.

The practice sandbox's scripted manager decides approval requests as an
inactive account whose username starts with "practice-manager-". Lists
that did not filter on active people showed it.
"""

from django.db import migrations, models

# The same as ``practice.manager.SCRIPTED_ACCOUNT_PREFIX``, copied so the
# migration keeps today's rule if that constant changes.
SCRIPTED_ACCOUNT_PREFIX = "practice-manager-"


def mark_scripted(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.filter(
        username__startswith=SCRIPTED_ACCOUNT_PREFIX, is_active=False
    ).update(is_scripted=True)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_username_and_email_keys")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="is_scripted",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text=(
                    "An account the product acts as, such as the practice "
                    "sandbox's scripted manager. Nobody signs in as it, and no "
                    "list of people shows it."
                ),
            ),
        ),
        migrations.RunPython(mark_scripted, migrations.RunPython.noop),
    ]
