from commonplace.tests.fixtures import (
    celery_broker,
    celery_worker,
    mailbox,
    redis_url,
    smtp_server,
)

__all__ = ["celery_broker", "celery_worker", "mailbox", "redis_url", "smtp_server"]
