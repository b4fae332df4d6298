"""WSGI entry point for gunicorn and other WSGI servers."""

import os

from django.core.wsgi import get_wsgi_application

from commonplace.env import load_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonplace.settings")
# A bad setting stops the server with a short error, not Django's long traceback.
load_settings()
application = get_wsgi_application()
