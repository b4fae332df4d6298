from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and roles"

    def ready(self) -> None:
        # Importing the module registers its system checks.
        from accounts import checks  # noqa: F401
        from accounts.reference import sync_reference_data_after_migrate

        post_migrate.connect(sync_reference_data_after_migrate, sender=self)
