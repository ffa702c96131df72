"""Single sign-on by OpenID Connect against a real provider process (tests/sso/oidc_idp/):
who gets in, who is refused and why, and that a refusal changes nothing."""

from urllib.parse import urlparse

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp
from wagtail.models import ModelLogEntry

from accounts.models import CreationRule, MatchClaim, SignInSettings, User
from accounts.services import user_deactivate
from tests.conftest import SSO_PASSWORD, totp_activate
from tests.workers import free_port

CALLBACK_HOST = "http://testserver/"


def sso_callback_url(client, idp, email: str, *, provider_id: str = "entra") -> str:
    """Press the sign-in button, sign in at the provider: the callback URL it sends back."""
    start = client.post(f"/accounts/oidc/{provider_id}/login/", {"next": "/my-training/"})
    assert start.status_code == 302, start.content[:500]
    return idp.sign_in(start["Location"], email=email, password=SSO_PASSWORD, until=CALLBACK_HOST)


def sso_sign_in(client, idp, email: str):
    return client.get(sso_callback_url(client, idp, email))


def rows() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        SocialAccount.objects.count(),
        EmailAddress.objects.count(),
        ModelLogEntry.objects.count(),
    )


def signed_in_as(client) -> str | None:
    from django.contrib.auth import get_user

    user = get_user(client)
    return user.email if user.is_authenticated else None


def assert_refused(response, text: str, *, status: int = 403) -> None:
    assert response.status_code == status, response.content[:500]
    assert text in response.content.decode()


def set_sign_in(site, **fields) -> SignInSettings:
    settings = SignInSettings.for_site(site)
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.save()
    return settings


def test_hr_imported_officer_is_linked_by_verified_email_and_lands_on_my_training(
    client, sso_app, oidc_provider, user_factory
):
    officer = user_factory(email="officer@example.gov.uk", full_name="Olu Officer")
    users_before = User.objects.count()

    response = sso_sign_in(client, oidc_provider, "officer@example.gov.uk")

    assert response.status_code == 302
    assert response["Location"] == "/my-training/"
    assert signed_in_as(client) == officer.email
    account = SocialAccount.objects.get()
    assert (account.user, account.provider) == (officer, "entra")
    assert User.objects.count() == users_before
    entry = ModelLogEntry.objects.filter(object_id=str(officer.pk)).latest("timestamp")
    assert entry.data["via"] == "single sign-on"
    assert entry.data["changes"][0]["after"] == "'Test Council Entra ID'"

    # The next sign-in finds the linked account: nothing new is made.
    client.logout()
    assert sso_sign_in(client, oidc_provider, "officer@example.gov.uk")["Location"] == (
        "/my-training/"
    )
    assert signed_in_as(client) == officer.email
    assert SocialAccount.objects.count() == 1


def test_match_on_employee_number_claim(client, sso_app, oidc_provider, user_factory, site):
    set_sign_in(site, match_claim=MatchClaim.EMPLOYEE_NUMBER, employee_number_claim="employeeid")
    # HR's file has another address for her; the employee number is what matches.
    person = user_factory(email="nia.numbered@example.gov.uk", employee_number="E2002")
    user_factory(email="o.numbered@example.gov.uk", employee_number="E9999")

    sso_sign_in(client, oidc_provider, "o.numbered@example.gov.uk")

    assert signed_in_as(client) == person.email
    assert SocialAccount.objects.get().user == person


def test_unverified_email_is_never_used_to_match(client, sso_app, oidc_provider, user_factory):
    user_factory(email="unverified@example.gov.uk")
    before = rows()

    response = sso_sign_in(client, oidc_provider, "unverified@example.gov.uk")

    assert_refused(response, "has not verified your email address")
    assert rows() == before
    assert signed_in_as(client) is None


def test_person_not_in_hr_file_is_refused_by_default(client, sso_app, oidc_provider):
    before = rows()

    response = sso_sign_in(client, oidc_provider, "stranger@example.gov.uk")

    assert_refused(response, "no record of you in HR")
    assert rows() == before
    assert signed_in_as(client) is None


def test_council_domain_rule_creates_the_person_with_no_role(client, sso_app, oidc_provider, site):
    set_sign_in(site, creation_rule=CreationRule.COUNCIL_DOMAINS, council_domains="example.gov.uk")

    response = sso_sign_in(client, oidc_provider, "stranger@example.gov.uk")

    assert response["Location"] == "/my-training/"
    person = User.objects.get(email="stranger@example.gov.uk")
    assert signed_in_as(client) == person.email
    assert person.full_name == "Stan Stranger"
    assert (person.is_staff, person.is_superuser, person.groups.count()) == (False, False, 0)
    assert person.department is None
    assert not person.has_usable_password()  # no other way in than the identity provider
    created = ModelLogEntry.objects.get(object_id=str(person.pk), action="wagtail.create")
    assert created.data["via"] == "single sign-on"


def test_council_domain_rule_still_refuses_other_domains(client, sso_app, oidc_provider, site):
    set_sign_in(site, creation_rule=CreationRule.COUNCIL_DOMAINS, council_domains="other.gov.uk")
    before = rows()

    assert_refused(sso_sign_in(client, oidc_provider, "stranger@example.gov.uk"), "no record")
    assert rows() == before


def test_deactivated_person_is_refused_before_and_after_linking(
    client, sso_app, oidc_provider, user_factory
):
    leaver = user_factory(email="leaver@example.gov.uk")
    sso_sign_in(client, oidc_provider, "leaver@example.gov.uk")
    assert signed_in_as(client) == leaver.email
    client.logout()
    user_deactivate(user=leaver, via="people import")
    before = rows()

    response = sso_sign_in(client, oidc_provider, "leaver@example.gov.uk")

    assert_refused(response, "Your Aware account has been closed")
    assert rows() == before
    assert signed_in_as(client) is None


def test_deactivated_person_is_not_linked(client, sso_app, oidc_provider, user_factory):
    leaver = user_factory(email="leaver@example.gov.uk")
    user_deactivate(user=leaver, via="people import")
    before = rows()

    assert_refused(sso_sign_in(client, oidc_provider, "leaver@example.gov.uk"), "closed")
    assert rows() == before


def test_provider_account_with_an_administrators_email_takes_nothing(
    client, sso_app, oidc_provider, user_factory, site
):
    set_sign_in(site, creation_rule=CreationRule.COUNCIL_DOMAINS, council_domains="example.gov.uk")
    admin = user_factory(email="admin@example.gov.uk", is_superuser=True, is_staff=True)
    before = rows()

    response = sso_sign_in(client, oidc_provider, "admin@example.gov.uk")

    assert_refused(response, "does not link it to a single sign-on account by itself")
    assert rows() == before
    assert signed_in_as(client) is None
    admin.refresh_from_db()
    assert (admin.is_superuser, admin.is_staff, admin.is_active) == (True, True, True)


@pytest.mark.parametrize(
    "mode",
    [
        "tampered",  # claims changed after signing
        "unsigned",  # alg "none"
        "wrong_key",  # signed, but not by the provider's published key
        "wrong_audience",
        "wrong_issuer",
        "expired",
        "other_nonce",  # issued for another sign-in
    ],
)
def test_bad_id_token_is_refused_and_changes_nothing(
    client, sso_app, oidc_provider, user_factory, mode
):
    user_factory(email="officer@example.gov.uk")
    user_factory(email="admin@example.gov.uk", is_superuser=True, is_staff=True)
    start = client.post("/accounts/oidc/entra/login/")
    oidc_provider.set_mode(mode, tamper_email="admin@example.gov.uk")
    before = rows()

    callback = oidc_provider.sign_in(
        start["Location"],
        email="officer@example.gov.uk",
        password=SSO_PASSWORD,
        until=CALLBACK_HOST,
    )
    response = client.get(callback)

    if mode == "other_nonce":
        assert_refused(response, "was not for this sign-in")
    else:
        assert_refused(response, "Aware could not confirm your sign-in", status=400)
    assert rows() == before
    assert signed_in_as(client) is None


def test_replayed_id_token_from_another_sign_in_is_refused(
    client, sso_app, oidc_provider, user_factory
):
    user_factory(email="officer@example.gov.uk")
    user_factory(email="stranger@example.gov.uk")
    sso_sign_in(client, oidc_provider, "officer@example.gov.uk")  # the token to replay
    client.logout()
    oidc_provider.set_mode("replay")
    before = rows()

    response = sso_sign_in(client, oidc_provider, "stranger@example.gov.uk")

    assert response.status_code in (400, 403)
    assert "Start again" in response.content.decode()
    assert rows() == before
    assert signed_in_as(client) is None


def test_replayed_state_is_refused(client, sso_app, oidc_provider, user_factory):
    user_factory(email="officer@example.gov.uk")
    callback = sso_callback_url(client, oidc_provider, "officer@example.gov.uk")
    assert client.get(callback).status_code == 302
    client.logout()
    before = rows()

    response = client.get(callback)

    assert_refused(response, "Aware could not confirm your sign-in", status=400)
    assert rows() == before
    assert signed_in_as(client) is None


def test_provider_not_shown_by_the_council_is_refused(
    client, sso_app, oidc_provider, user_factory, site
):
    user_factory(email="officer@example.gov.uk")
    SignInSettings.for_site(site).sso_providers.clear()
    before = rows()

    response = sso_sign_in(client, oidc_provider, "officer@example.gov.uk")

    assert_refused(response, "not one the council uses")
    assert rows() == before


def test_provider_down_gets_a_clear_page_and_email_sign_in_still_works(
    client, sso_app, user_factory, site
):
    down = SocialApp.objects.create(
        provider="openid_connect",
        provider_id="down",
        name="Switched off",
        client_id="x",
        secret="y",
        settings={"server_url": f"http://127.0.0.1:{free_port()}"},
    )
    SignInSettings.for_site(site).sso_providers.add(down)
    user_factory(email="councillor@elsewhere.org.uk", password="correct-horse-battery")

    response = client.post("/accounts/oidc/down/login/")

    assert_refused(response, "could not reach the council&#x27;s sign-in service", status=503)
    signed = client.post(
        "/accounts/login/",
        {"login": "councillor@elsewhere.org.uk", "password": "correct-horse-battery"},
    )
    assert signed.status_code == 302
    assert signed_in_as(client) == "councillor@elsewhere.org.uk"


def test_sso_only_domains_turn_off_password_sign_in_reset_and_sign_up(
    client, sso_app, user_factory, site, mailoutbox
):
    set_sign_in(site, sso_only_domains="example.gov.uk\n")
    user_factory(email="officer@example.gov.uk", password="correct-horse-battery")
    user_factory(email="councillor@elsewhere.org.uk", password="correct-horse-battery")
    why = "Passwords are not used for these addresses"
    before = rows()

    login = client.post(
        "/accounts/login/",
        {"login": "officer@example.gov.uk", "password": "correct-horse-battery"},
    )
    reset = client.post("/accounts/password/reset/", {"email": "officer@example.gov.uk"})
    signup = client.post(
        "/accounts/signup/",
        {
            "email": "new.starter@example.gov.uk",
            "password1": "a-long-passphrase-1",
            "password2": "a-long-passphrase-1",
            "full_name": "New Starter",
        },
    )

    for response in (login, reset, signup):
        assert response.status_code == 200
        assert why in response.content.decode()
    assert signed_in_as(client) is None
    assert rows() == before
    assert mailoutbox == []
    # Councillors, contractors and partners outside those domains keep email sign-in.
    other = client.post(
        "/accounts/login/",
        {"login": "councillor@elsewhere.org.uk", "password": "correct-horse-battery"},
    )
    assert other.status_code == 302
    assert signed_in_as(client) == "councillor@elsewhere.org.uk"


@pytest.mark.parametrize(
    ("email", "trust", "asks_for_code"),
    [
        ("hr.mfa@example.gov.uk", False, True),  # the council does not trust the provider's MFA
        ("hr.pwd@example.gov.uk", True, True),  # trusted, but the provider did not do MFA
        ("hr.mfa@example.gov.uk", True, False),  # trusted, and the provider did MFA
    ],
)
def test_privileged_role_needs_aware_totp_unless_the_providers_mfa_is_trusted(
    client, sso_app, oidc_provider, user_factory, roles, site, email, trust, asks_for_code
):
    set_sign_in(site, trust_idp_mfa=trust)
    hr = user_factory(email=email, groups=["HR"])
    totp_activate(hr)
    # The owner linked their council account themselves (privileged accounts are never linked
    # by a sign-in alone).
    SocialAccount.objects.create(user=hr, provider="entra", uid=oidc_provider.subjects[email])

    response = sso_sign_in(client, oidc_provider, email)

    if asks_for_code:
        assert urlparse(response["Location"]).path == "/accounts/2fa/authenticate/"
        assert signed_in_as(client) is None
    else:
        assert response["Location"] == "/my-training/"
        assert signed_in_as(client) == email
        # Nor is the person sent to set up Aware's authenticator on the way.
        assert client.get("/my-training/").status_code == 200


def test_trusted_provider_mfa_also_spares_setting_up_aware_totp(
    client, sso_app, oidc_provider, user_factory, roles, site
):
    set_sign_in(site, trust_idp_mfa=True)
    hr = user_factory(email="hr.mfa@example.gov.uk", groups=["HR"])
    SocialAccount.objects.create(
        user=hr, provider="entra", uid=oidc_provider.subjects["hr.mfa@example.gov.uk"]
    )
    sso_sign_in(client, oidc_provider, "hr.mfa@example.gov.uk")
    assert client.get("/my-training/").status_code == 200

    # The same person signing in with a password is still sent to set up Aware's.
    client.logout()
    client.post(
        "/accounts/login/",
        {"login": "hr.mfa@example.gov.uk", "password": "correct-horse-battery"},
    )
    assert client.get("/my-training/")["Location"] == "/accounts/2fa/totp/activate/"


def test_sign_in_page_shows_the_councils_button(client, sso_app, oidc_provider, site):
    from cms.models import CouncilSettings

    council = CouncilSettings.for_site(site)
    council.council_name = "Borsetshire County Council"
    council.save()

    response = client.get("/accounts/login/")
    page = response.content.decode()
    assert "Sign in with Borsetshire County Council account" in page
    assert 'action="/accounts/oidc/entra/login/"' in page
    # The button's redirect leads to the provider: the page's policy lets the form go there.
    form_action = next(
        part for part in response["Content-Security-Policy"].split(";") if "form-action" in part
    )
    assert form_action.split() == ["form-action", "'self'", oidc_provider.url]

    set_sign_in(site, sso_button_text="Sign in with your Borsetshire account")
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with your Borsetshire account" in page

    SignInSettings.for_site(site).sso_providers.clear()
    assert "/accounts/oidc/entra/login/" not in client.get("/accounts/login/").content.decode()


def test_administrator_connects_their_own_council_account_when_signed_in(
    client, sso_app, oidc_provider, roles
):
    admin = User.objects.get(email="admin@example.gov.uk")  # the demo administrator
    assert admin.is_superuser
    totp_activate(admin)
    client.force_login(admin)
    connections = client.get("/accounts/3rdparty/")
    assert connections.status_code == 200
    assert "Test Council Entra ID" in connections.content.decode()
    start = client.post("/accounts/oidc/entra/login/", {"process": "connect"})
    callback = oidc_provider.sign_in(
        start["Location"], email="admin@example.gov.uk", password=SSO_PASSWORD, until=CALLBACK_HOST
    )

    response = client.get(callback)

    assert response.status_code == 302, response.content[:500]
    assert SocialAccount.objects.get().user == admin
    assert signed_in_as(client) == admin.email
