# stackapp - the Django + DRF + Celery backend test_stack.sh stands up
# behind nginx: the stack suites/staging.json is written for. Test code
# only; it knows nothing of verdict.
from .celery import app as celery_app

__all__ = ("celery_app",)
