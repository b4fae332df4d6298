# Adds the digest of the seeded sandbox, so an unchanged sandbox is not scored.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('practice', '0002_manager_decisions'),
    ]

    operations = [
        migrations.AddField(
            model_name='sandboxsession',
            name='seed_digest',
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
