"""Settings shared by every environment; values come from the environment (see .env.example)."""

import base64
import binascii
import re
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# SECURITY
SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

# CONTENT SECURITY POLICY (django-csp; every environment, so a violation shows up in development
# and in the browser tests, not first in production)
# Our own pages load only our own files. The two inline scripts in base.html (the js-enabled class
# and the GOV.UK Frontend start-up) carry the request's nonce; everything else is a static file.
# No inline styles and no inline event handlers anywhere in our templates.
CSP_DIRECTIVES = {
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF],
    "img-src": [SELF],
    "font-src": [SELF],
    # Lesson videos and their captions may be hosted elsewhere (an editor gives the file's URL).
    "media-src": [SELF, "https:"],
    "connect-src": [SELF],
    "frame-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
    "report-uri": "/csp-report/",
}
# Wagtail's admin (/cms/) and Django's admin only REPORT what the policy would block: Wagtail 7.4
# renders inline <script> blocks without a nonce (InlinePanel, date and time widgets) and injects
# inline <style> elements, so enforcing would break editing; Django's admin writes an inline
# <style> into a change list without actions. Wagtail frames its own preview, hence
# frame-ancestors 'self' there. The reports (see cms.views.csp_report) say when it is safe to
# enforce here too; cms.middleware sends each policy only where it belongs.
CSP_REPORT_ONLY_PREFIXES = ("/cms/", "/django-admin/")
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": CSP_REPORT_ONLY_PREFIXES,
    "DIRECTIVES": CSP_DIRECTIVES,
}
CONTENT_SECURITY_POLICY_REPORT_ONLY = {
    "DIRECTIVES": {**CSP_DIRECTIVES, "frame-ancestors": [SELF]},
}

# PERMISSIONS POLICY (django-permissions-policy): no page of Aware needs the camera, microphone,
# location, payments or devices, so no page, nor anything it frames, may ask for them. Only
# features Chromium recognises (tests/browser fails on "Unrecognized feature": 'bluetooth' is one).
PERMISSIONS_POLICY = {
    **dict.fromkeys(
        [
            "accelerometer",
            "autoplay",
            "browsing-topics",
            "camera",
            "clipboard-read",
            "display-capture",
            "encrypted-media",
            "geolocation",
            "gyroscope",
            "hid",
            "idle-detection",
            "local-fonts",
            "magnetometer",
            "microphone",
            "midi",
            "otp-credentials",
            "payment",
            "screen-wake-lock",
            "serial",
            "usb",
            "window-management",
            "xr-spatial-tracking",
        ],
        "none",
    ),
    # Lesson videos may go full screen; Wagtail's admin copies to the clipboard; a passkey sign-in
    # (if MFA_SUPPORTED_TYPES ever gains "webauthn") needs the Web Authentication API.
    "fullscreen": "self",
    "clipboard-write": "self",
    "publickey-credentials-create": "self",
    "publickey-credentials-get": "self",
}

# APPS
INSTALLED_APPS = [
    "cms",
    "accounts",
    "training",
    "quizzes",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "accounts.apps.AwareUsersAppConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "treebeard",  # the department tree's admin: its templates, scripts and translations
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "django_celery_beat",
    "pgtrigger",
    "csp",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML compressed for browsers that ask (a lesson: 16.4 KB, 5.2 KB gzipped). Below WhiteNoise,
    # which serves static files already gzipped (CompressedManifestStaticFilesStorage), and
    # above everything that reads or writes the body, as Django's documentation asks. BREACH:
    # since Django 4.2 GZipMiddleware adds up to 100 random bytes to each response
    # (max_random_bytes, in the gzip header's file name), so the compressed length no longer
    # tells an attacker whether a guess matched a secret on the page; the CSRF token is masked
    # afresh on every response too.
    "django.middleware.gzip.GZipMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "cms.middleware.ReportOnlyAdminCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "cms.middleware.SiteCacheMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.kiosk.KioskMiddleware",
    "accounts.middleware.RequireMFAMiddleware",
    "accounts.middleware.SsoFormActionMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "cms.context_processors.site_links",
                "accounts.context_processors.team_link",
            ],
        },
    },
]

# DATABASE
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: keeping them 60 s gave a signed-in bare view 1.87x the requests per second
# (issue 17). Each is checked before reuse after a request, so a database restart
# or a dropped connection costs one reconnect, not an error page. 0 closes them after each request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default: the web server and the in-process worker share one file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CACHE (allauth's rate limits live here, so it must be shared between processes)
REDIS_URL = env("REDIS_URL", default="")


def redis_cache_config(url: str) -> dict:
    """The default cache on the Redis at `url` (the Docker and production set-up). While Redis
    is unreachable each process uses its own memory instead (config/cache.py says why), so no
    page fails for want of the cache; the short timeouts keep a dead Redis from holding a page."""
    return {
        "BACKEND": "config.cache.FailoverRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "aware",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1},
    }


if REDIS_URL:
    CACHES = {"default": redis_cache_config(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# EVIDENCE (the completion chain's HMAC keys: never SECRET_KEY, so each rotates on its own)


def records_keys_parse(value: str) -> dict[str, bytes]:
    """AWARE_RECORDS_KEYS, "id:base64-secret,id:base64-secret", as {id: secret}. Errors name the
    entry by position and id, never the secret."""
    keys = {}
    for number, entry in enumerate(filter(None, (e.strip() for e in value.split(","))), 1):
        key_id, colon, secret = entry.partition(":")
        if not colon or not re.fullmatch(r"[A-Za-z0-9._-]{1,32}", key_id):
            raise ImproperlyConfigured(
                f"AWARE_RECORDS_KEYS entry {number} must be 'key-id:base64-secret', the id "
                "1 to 32 letters, digits, dots, dashes or underscores."
            )
        try:
            keys[key_id] = base64.b64decode(secret, validate=True)
        except binascii.Error:
            keys[key_id] = b""
        if len(keys[key_id]) < 32:
            raise ImproperlyConfigured(
                f"AWARE_RECORDS_KEYS key {key_id!r} must be at least 32 random bytes in base64 "
                '(python -c "import base64,os; print(base64.b64encode(os.urandom(32)).decode())").'
            )
    return keys


# Every key that ever signed a record stays here, so old records still verify after a rotation.
AWARE_RECORDS_KEYS = records_keys_parse(env("AWARE_RECORDS_KEYS", default=""))
# The key new records and checkpoints are signed with.
AWARE_RECORDS_KEY_ID = env("AWARE_RECORDS_KEY_ID", default="")
# Signed checkpoints of the chain's head, one JSON line each (also emailed: Settings -> Reports).
AWARE_CHECKPOINT_DIR = Path(
    env("AWARE_CHECKPOINT_DIR", default=str(BASE_DIR / "var" / "checkpoints"))
)

# AUTHENTICATION
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
# Password sign-in refuses single sign-on only addresses; sign-up and password reset do so in
# AccountAdapter.clean_email.
ACCOUNT_FORMS = {
    "login": "accounts.allauth_forms.LoginForm",
    "request_login_code": "accounts.allauth_forms.RequestLoginCodeForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
# allauth's built-in limits, with the sign-in code's stated: 3 codes a minute for one address
# and 20 from one network address; each code takes 3 wrong tries (LOGIN_BY_CODE_MAX_ATTEMPTS).
ACCOUNT_RATE_LIMITS = {"request_login_code": "20/m/ip,3/m/key"}
# Sign-in by a one-time code sent by email, for partners, contractors and agency staff without a
# council account or password (HR's invitation links to it) and on kiosks.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
# 10 minutes: long enough to open the email on a phone, short enough for a code read over a
# shoulder on a depot device to be of little use.
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60
# A kiosk (a shared depot device HR marked at /kiosk/) signs a person out after this long idle.
AWARE_KIOSK_IDLE_SECONDS = env.int("AWARE_KIOSK_IDLE_SECONDS", default=180)
# Sign-up is open only to these email domains; with none, people join by HR's invitation only.
AWARE_SIGNUP_EMAIL_DOMAINS = [
    d.lower().lstrip("@") for d in env.list("AWARE_SIGNUP_EMAIL_DOMAINS", default=[])
]
# Single sign-on with the council's identity provider (Entra ID, by OpenID Connect or SAML 2.0).
# Providers are SocialApp rows an administrator adds; accounts.sso decides who may sign in
# (SignInSettings in the admin). Aware's providers add to allauth's: the OIDC one always checks
# the ID token's signature and a nonce (accounts/oidc/); the SAML one reads Entra ID's claim
# names and refuses replays and unsigned assertions (accounts/sso_saml.py).
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        # allauth's provider, checking the ID token's signature and a nonce (accounts/oidc/).
        "provider_class": "accounts.oidc.provider.AwareOpenIDConnectProvider",
        "OAUTH_PKCE_ENABLED": True,
    },
    "saml": {"provider_class": "accounts.sso_saml.SAMLProvider"},
}
SOCIALACCOUNT_AUTO_SIGNUP = True  # accounts.sso decides who may be created, with no form
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # people are matched by accounts.sso, never by allauth
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"  # only addresses the identity provider verified are used
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = env.int("SOCIALACCOUNT_REQUESTS_TIMEOUT", default=5)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="Aware")
# Groups whose members must use two-factor sign-in before they reach any page but account setup.
AWARE_MFA_REQUIRED_GROUPS = ["HR", "Member Services", "Content editors", "Content approvers"]

# INTERNATIONALISATION
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# STATIC AND MEDIA
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "build" / "collected-static"
STATICFILES_DIRS = [
    BASE_DIR / "build" / "static",
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
]
# Files WhiteNoise serves at the site's root, before Django sees the request: /favicon.ico, which
# browsers ask for on their own (it was a 404 rendered by Django on every first visit).
WHITENOISE_ROOT = BASE_DIR / "cms" / "root_files"
MEDIA_URL = "/media/"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Serve uploaded images and files from Django itself. Enough for a council's lesson images; with a
# web server or object store in front of /media/, turn it off. (DEBUG serves them anyway.)
AWARE_SERVE_MEDIA = env.bool("DJANGO_SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# EMAIL
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Aware training <aware@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# WAGTAIL
WAGTAIL_SITE_NAME = "Aware"
# The starter diagrams are SVG (sharp at any size, text an editor can fix); editors are trusted.
WAGTAILIMAGES_EXTENSIONS = ["avif", "gif", "jpg", "jpeg", "png", "webp", "svg"]
WAGTAILADMIN_BASE_URL = SITE_URL
# Through the admin's own sign-in URL, which refuses a signed-in person the admin does not let in
# (accounts.views.AdminSignIn) instead of bouncing them between the admin and allauth.
WAGTAILADMIN_LOGIN_URL = "/cms/login/"
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "pdf", "pptx", "txt", "xlsx"]
# The admin calls out to nobody (the Content-Security-Policy reported both): no Gravatar, which
# would send a hash of each member of staff's email address to a third party, and no browser
# check for new Wagtail releases (upgrades are planned, see the README).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False


# CELERY
# With REDIS_URL set, Redis is broker and result store. Without it (the embedded demo), tasks go
# through a filesystem broker that the in-process worker started by `make demo` reads.
def filesystem_broker_options(folder: Path) -> dict:
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(BASE_DIR / "var" / "celery")
    CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A request must never wait on a dead broker: fail fast, and let the caller log it.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Every beat schedule is declared here. The reminder sweep's is too, but its time and days are HR's
# (Settings -> Reminders), so training.reminders.schedule writes its row from those settings.
AWARE_REMINDER_SWEEP_SCHEDULE = {
    "name": "reminder-sweep",
    "task": "training.tasks.reminders_sweep_task",
}
CELERY_BEAT_SCHEDULE = {
    "queued-emails-retry": {
        "task": "accounts.tasks.queued_emails_retry_task",
        "schedule": crontab(minute="*/2"),
    },
    "worker-heartbeat": {
        "task": "cms.tasks.heartbeat_record_task",
        "schedule": crontab(minute="*/5"),
    },
    "assignments-sync-nightly": {
        "task": "training.tasks.assignments_sync_task",
        "schedule": crontab(hour=2, minute=15),
    },
    "reports-count-every-10-minutes": {
        "task": "training.tasks.report_counts_refresh_task",
        "schedule": crontab(minute="*/10"),
    },
    # Each scheduled report goes on the first run of its week, month or quarter.
    "reports-scheduled-daily": {
        "task": "training.tasks.scheduled_reports_send_task",
        "schedule": crontab(hour=6, minute=30),
    },
    "records-checkpoint-daily": {
        "task": "training.tasks.records_checkpoint_task",
        "schedule": crontab(hour=1, minute=30),
    },
    # What a dead broker or a killed worker left waiting in the message log goes within minutes.
    "messages-retry-every-5-minutes": {
        "task": "training.tasks.messages_retry_task",
        "schedule": crontab(minute="*/5"),
    },
    # Editors and module owners: modules past review-by, routes unverified, lessons to recheck.
    "content-review-weekly": {
        "task": "training.tasks.content_review_digest_task",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
    },
    # Too many emails failing turns /healthz "degraded" and tells the administrators.
    "operations-check-every-15-minutes": {
        "task": "training.tasks.operations_check_task",
        "schedule": crontab(minute="*/15"),
    },
    # Leavers past HR's retention period, the old email log, stale import files, old exports.
    "retention-daily": {
        "task": "training.tasks.retention_sweep_task",
        "schedule": crontab(hour=3, minute=10),
    },
}

# LOGGING (no personal data: log ids, never names or email addresses)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
    },
}

# AWARE
AWARE_DEMO_DATA = False
# Content governance: a reporting route not verified in this many months is in the weekly
# content review digest (lessons are listed a year after their sources were last checked).
AWARE_ROUTE_VERIFY_MONTHS = env.int("AWARE_ROUTE_VERIFY_MONTHS", default=6)
# Operational alerts: this many failed emails in 24 hours tell the administrators.
AWARE_ALERT_SMTP_FAILURES = env.int("AWARE_ALERT_SMTP_FAILURES", default=5)
