from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ReconciliationConfig(AppConfig):
    name = "reconciliation"
    verbose_name = "Order reconciliation"

    def ready(self) -> None:
        from reconciliation.reference import sync_currencies_after_migrate

        post_migrate.connect(sync_currencies_after_migrate, sender=self)
