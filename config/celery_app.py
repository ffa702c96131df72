"""The Celery app: Redis (or the embedded filesystem broker) as broker; beat in the database."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("aware")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
