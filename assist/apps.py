from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AssistConfig(AppConfig):
    name = "assist"
    verbose_name = "Help in the flow of work"

    def ready(self) -> None:
        from assist import embedding  # noqa: F401  (registers the origin check)
        from assist.caching import connect_invalidation
        from assist.contexts import sync_contexts_after_migrate

        post_migrate.connect(sync_contexts_after_migrate, sender=self)
        connect_invalidation()
