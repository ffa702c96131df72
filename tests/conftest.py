"""Shared fixtures and hooks. Tests run on PostgreSQL when DATABASE_URL points at it (as in CI)."""

import os
import shutil
import socket
import time
from urllib.parse import urlparse

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core.cache import cache
from django.core.management import call_command
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property tests keep Hypothesis's number of examples, but a busy machine (two shared cores) must
# not fail them for being slow: no deadline per example and no too_slow health check.
hypothesis_settings.register_profile(
    "aware", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("aware")

# Playwright's sync API runs an event loop in the main thread; the ORM calls in browser tests
# are still synchronous and safe. Tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI") == "true"


def skip_unless(available: bool, reason: str) -> None:
    """Skip on a bare laptop, but fail in CI: CI must never pass by skipping."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """`@pytest.mark.postgres` tests need PostgreSQL: skipped on SQLite, but failed in CI."""
    if item.get_closest_marker("postgres") is None:
        return
    from django.db import connection

    skip_unless(
        connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL); CI runs it"
    )


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_is_up() -> bool:
    parsed = urlparse(redis_url())
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _checkpoints_in_tmp(settings, tmp_path):
    """verify_records reads the newest checkpoint: never one a developer's beat wrote."""
    settings.AWARE_CHECKPOINT_DIR = tmp_path / "checkpoints"


@pytest.fixture(autouse=True, scope="session")
def _flushes_lift_the_evidence_triggers():
    """A transactional test ends with a flush, on SQLite a DELETE that the evidence triggers
    refuse (PostgreSQL's TRUNCATE fires no row trigger). Tests only: it runs with them lifted."""
    from django.db import connection

    from tests.tampering import evidence_triggers_lifted

    if connection.vendor != "sqlite":
        yield
        return
    DatabaseOperations = type(connection.ops)
    flush = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with evidence_triggers_lifted(connection=self.connection):
            flush(self, sql_list)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    """allauth keeps rate limits in the cache; no test may inherit another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site(db):
    """The site tree load_initial_data builds: home page, standard pages, council settings."""
    from wagtail.models import Site

    from tests.site_snapshot import built, site_tree_build

    built("site tree", site_tree_build)
    return Site.objects.get(is_default_site=True)


@pytest.fixture
def roles(site):
    from tests.site_snapshot import built

    built("roles", lambda: call_command("load_accounts_data", stdout=open(os.devnull, "w")))  # noqa: SIM115


@pytest.fixture
def user_factory(db):
    from allauth.account.models import EmailAddress

    from accounts.models import User

    def make(
        email="learner@example.gov.uk",
        password="correct-horse-battery",
        verified=True,
        groups=(),
        **fields,
    ):
        from django.contrib.auth.models import Group

        fields.setdefault("full_name", "Test Learner")
        user = User.objects.create_user(email=email, password=password, **fields)
        EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
        for name in groups:
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        return user

    return make


# Two-factor sign-in: the staff roles must have an authenticator app before the admin opens.
def totp_activate(user) -> str:
    """Give the person an authenticator app (allauth's TOTP); returns its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    """The code the authenticator app with this secret shows now. In a window's last seconds it
    waits for the next window first: allauth accepts only the current window's code, and a slow
    browser test can otherwise submit a code that has just expired."""
    from allauth.mfa import app_settings as mfa_settings

    left = mfa_settings.TOTP_PERIOD - time.time() % mfa_settings.TOTP_PERIOD
    if left < 5:
        time.sleep(left + 0.2)
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


@pytest.fixture
def signed_in_with_mfa(client, roles, user_factory):
    """Sign `client` in as a new person with an authenticator app: call it with an email, the
    person's groups and any other User fields; it returns the person."""

    def sign_in(email: str, *, groups=(), **fields):
        user = user_factory(email=email, groups=groups, **fields)
        totp_activate(user)
        client.force_login(user)
        return user

    return sign_in


# Celery: the real worker runs on the real Redis (databases 14/15 so tests never touch app data;
# 12/13 for pytest-xdist's second process, and so on down).
@pytest.fixture(scope="session")
def celery_config():
    from django.conf import settings

    parsed = urlparse(redis_url())
    base = f"redis://{parsed.hostname}:{parsed.port or 6379}"
    broker = 14 - 2 * settings.XDIST_INDEX
    return {"broker_url": f"{base}/{broker}", "result_backend": f"{base}/{broker + 1}"}


@pytest.fixture(scope="session")
def celery_worker_parameters():
    return {"perform_ping_check": False}


# Browser: Debian's Chromium, driven by Playwright (which cannot download its own browser here).
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    skip_unless(
        shutil.which("chromium") is not None or os.path.exists(CHROMIUM),
        "Chromium is not installed",
    )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(autouse=True)
def _project_celery_app_is_current():
    """celery.contrib.pytest's worker makes its own app current; give ours back afterwards."""
    from config.celery_app import app

    app.set_current()
    app.set_default()


@pytest.fixture
def dead_broker():
    """Point the project's Celery app at a closed port (and drop pooled connections both ways)."""
    from config.celery_app import app

    def drop_pooled_connections():
        # Forget the app's pools (not close them: kombu keeps pools per broker URL, and a closed
        # one would be handed back to later tests for the real broker).
        app._pool = None
        app.amqp._producer_pool = None

    original = app.conf.broker_url
    drop_pooled_connections()
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    yield
    drop_pooled_connections()
    app.conf.broker_url = original


# Single sign-on by SAML: one real identity provider process for the whole run (tests/sso/).
@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory):
    from tests.sso.saml_idp import SamlIdP

    skip_unless(shutil.which("xmlsec1") is not None, "xmlsec1 is not installed (apt: xmlsec1)")
    idp = SamlIdP(tmp_path_factory.mktemp("saml-idp")).start()
    yield idp
    idp.stop()


@pytest.fixture
def saml_app(site, saml_idp):
    """The council's SAML identity provider as an administrator sets it up in Aware: a social
    app reading the IdP's metadata, with the IdP trusted for the council's own domain, shown on
    the sign-in page."""
    from allauth.socialaccount.models import SocialApp

    from accounts.models import SignInSettings

    app = SocialApp.objects.create(
        provider="saml",
        provider_id="council-saml",
        name="Example Council account",
        client_id="council",
        settings={
            "idp": {"entity_id": saml_idp.entity_id, "metadata_url": saml_idp.metadata_url},
            "verified_email": ["example.gov.uk"],
        },
    )
    SignInSettings.for_site(site).sso_providers.add(app)
    return app


@pytest.fixture
def project_broker():
    """Point the project's Celery app at another broker (dropping pooled connections both ways,
    as dead_broker does)."""
    from config.celery_app import app

    def drop_pooled_connections():
        app._pool = None
        app.amqp._producer_pool = None

    original = app.conf.broker_url

    def point(url: str) -> None:
        drop_pooled_connections()
        app.conf.broker_url = url

    yield point
    drop_pooled_connections()
    app.conf.broker_url = original


# Single sign-on: one real OpenID Connect provider process for the whole run (tests/sso/).
SSO_PASSWORD = "idp-password-123"
SSO_USERS = {
    # email at the provider: (name, email verified by the provider, extra ID token claims)
    "officer@example.gov.uk": ("Olu Officer", True, {"employeeid": "E1001", "amr": ["pwd"]}),
    "o.numbered@example.gov.uk": ("Nia Numbered", True, {"employeeid": "E2002", "amr": ["pwd"]}),
    "unverified@example.gov.uk": ("Una Verified", False, {"amr": ["pwd"]}),
    "stranger@example.gov.uk": ("Stan Stranger", True, {"amr": ["pwd"]}),
    "leaver@example.gov.uk": ("Lee Leaver", True, {"amr": ["pwd"]}),
    "admin@example.gov.uk": ("Ada Attacker", True, {"amr": ["pwd"]}),
    "hr.mfa@example.gov.uk": ("Hana Resources", True, {"amr": ["pwd", "mfa"]}),
    "hr.pwd@example.gov.uk": ("Hal Resources", True, {"amr": ["pwd"]}),
    "journey@example.gov.uk": ("Jo Journey", True, {"amr": ["pwd"]}),
}


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """The test OpenID Connect provider (allauth.idp.oidc in its own process), with SSO_USERS
    and Aware's client registered; stopped by its pid at the end of the run."""
    from tests.sso.idp import IdpUser, OidcProvider

    users = [
        IdpUser(email=email, password=SSO_PASSWORD, name=name, email_verified=ok, claims=claims)
        for email, (name, ok, claims) in SSO_USERS.items()
    ]
    provider = OidcProvider(
        workdir=tmp_path_factory.mktemp("oidc-idp"),
        users=users,
        redirect_uris=["http://testserver/accounts/oidc/entra/login/callback/"],
    )
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def sso_app(oidc_provider, site):
    """Aware configured as a council would for Entra ID: the provider as a SocialApp, shown on
    the sign-in page, with the ID token's claims used (Entra's userinfo has too few)."""
    from allauth.socialaccount.models import SocialApp

    from accounts.models import SignInSettings

    oidc_provider.set_mode("normal")
    app = SocialApp.objects.create(
        provider="openid_connect",
        provider_id="entra",
        name="Test Council Entra ID",
        client_id=oidc_provider.CLIENT_ID,
        secret=oidc_provider.client_secret,
        settings={"server_url": oidc_provider.url, "fetch_userinfo": False},
    )
    SignInSettings.for_site(site).sso_providers.add(app)
    return app
