"""Keep the repeat windows of missed searches in a table every process shares.

The windows lived in Django's cache, and without CACHE_URL each process had
its own memory cache, so a repeat that reached another worker was counted
again. Windows open when this migration runs are lost, so a miss repeated
within the next minute may be counted once more.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('search', '0009_person_name_vector'),
    ]

    operations = [
        migrations.CreateModel(
            name='MissedSearchRepeat',
            fields=[
                ('key', models.CharField(max_length=64, primary_key=True, serialize=False)),
                ('expires_at', models.DateTimeField(db_index=True)),
            ],
            options={
                'db_table': 'search_missed_repeat',
            },
        ),
    ]
