"""Index the FAQ entries held for their owners, which search reads per query."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("answers", "0009_narrow_existing_faq_entries"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="faqentry",
            index=models.Index(
                fields=["owners_only", "crm_function"],
                name="faq_held_for_owners",
            ),
        ),
    ]
