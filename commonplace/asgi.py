"""ASGI entry point for uvicorn and other ASGI servers."""

import os

from django.core.asgi import get_asgi_application

from commonplace.env import load_settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonplace.settings")
# A bad setting stops the server with a short error, not Django's long traceback.
load_settings()
application = get_asgi_application()
