"""ASGI entry point for uvicorn and other ASGI servers."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commonplace.settings")
application = get_asgi_application()
