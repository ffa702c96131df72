"""Settings for the workers and beats that the scale-out test starts: a worker's settings, with
media under the test's own directory and no schedule of beat's own: the test writes the
schedule's rows (django-celery-beat's database scheduler), as HR's reminder settings do."""

import os

from tests.worker_settings import *  # noqa: F403

MEDIA_ROOT = os.environ["AWARE_TEST_MEDIA_ROOT"]
CELERY_BEAT_SCHEDULE = {}
