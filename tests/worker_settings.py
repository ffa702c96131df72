"""Settings for a Celery worker that a fault test starts in its own process: the test settings,
with mail over SMTP to the port the test's server listens on."""

import os

from config.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST, EMAIL_PORT = "127.0.0.1", int(os.environ["AWARE_TEST_SMTP_PORT"])
EMAIL_USE_TLS = EMAIL_USE_SSL = False
EMAIL_TIMEOUT = 60
