"""The Celery application that runs background tasks on workers.

Start a worker with ``celery -A commonplace worker``. It reads Django's
settings (the ``CELERY_`` ones configure Celery) and imports the ``tasks``
module of every installed app, where ``@commonplace.background.task``
functions live.
"""

import os

from celery import Celery

from commonplace.env import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonplace.settings")
load_settings_or_exit()

app = Celery("commonplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
