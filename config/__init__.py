"""Project package (the design card's "platform": that name would shadow Python's stdlib module)."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
