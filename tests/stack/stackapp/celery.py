# celery.py - the stack's Celery application (Redis broker and backend).
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stackapp.settings")
app = Celery("stackapp")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.task
def add(a, b):
    return a + b
