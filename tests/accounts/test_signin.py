"""Sign-up, verification, sign-in, rate limits and MFA, all through allauth."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from accounts.models import User
from tests.accounts.test_import import celery_eager  # noqa: F401 - a fixture
from tests.conftest import totp_activate, totp_code

PASSWORD = "correct-horse-battery"


def signup(client, email):
    return client.post(
        reverse("account_signup"),
        {"email": email, "full_name": "New Starter", "password1": PASSWORD, "password2": PASSWORD},
    )


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@pytest.mark.django_db
def test_signup_from_a_disallowed_domain_is_refused_with_a_clear_message(client, mailoutbox):
    response = signup(client, "someone@gmail.com")

    assert response.status_code == 200
    assert "Use your council email address (@example.gov.uk)" in response.content.decode()
    assert "There is a problem" in response.content.decode()
    assert not User.objects.filter(email="someone@gmail.com").exists()
    assert mailoutbox == []


@pytest.mark.django_db
@pytest.mark.usefixtures("celery_eager")
def test_signup_from_an_allowed_domain_sends_a_verification_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the outbox's send task
        response = signup(client, "new.starter@example.gov.uk")

    assert response.status_code == 302
    user = User.objects.get(email="new.starter@example.gov.uk")
    assert user.full_name == "New Starter"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.starter@example.gov.uk"]
    assert "/accounts/confirm-email/" in mailoutbox[0].body


@pytest.mark.django_db
def test_signup_is_closed_when_no_domains_are_allowed(client, settings):
    settings.AWARE_SIGNUP_EMAIL_DOMAINS = []

    response = client.get(reverse("account_signup"))

    assert "Sign Up Closed" in response.content.decode()
    assert signup(client, "new.starter@example.gov.uk").status_code == 200
    assert not User.objects.exists()


@pytest.mark.django_db
def test_an_unverified_user_cannot_sign_in(client, user_factory):
    user_factory(email="unverified@example.gov.uk", verified=False)

    response = sign_in(client, "unverified@example.gov.uk")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_verified_learner_signs_in_by_email(client, user_factory, site):
    user_factory(email="learner@example.gov.uk", full_name="Alex Morgan")

    response = sign_in(client, "learner@example.gov.uk")

    assert response.status_code == 302
    home = client.get("/")
    assert "Alex Morgan" in home.content.decode()


@pytest.mark.django_db
def test_repeated_wrong_passwords_are_rate_limited(client, user_factory):
    user_factory(email="learner@example.gov.uk")
    for _ in range(5):
        sign_in(client, "learner@example.gov.uk", password="wrong-password")

    response = sign_in(client, "learner@example.gov.uk")

    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_wagtail_admin_login_leads_to_allauth(client):
    response = client.get("/cms/login/?next=/cms/pages/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/cms/pages/"


@pytest.mark.django_db
def test_django_admin_login_leads_to_allauth(client):
    response = client.get("/django-admin/login/?next=/django-admin/")

    assert response["Location"] == "/accounts/login/?next=/django-admin/"


@pytest.mark.django_db
def test_signed_out_admin_visit_goes_to_allauth(client):
    response = client.get("/cms/", follow=True)

    assert [url for url, _ in response.redirect_chain] == [
        "/cms/login/?next=/cms/",
        "/accounts/login/?next=%2Fcms%2F",
    ]


@pytest.mark.django_db
def test_hr_user_without_mfa_cannot_reach_the_admin(client, user_factory, roles):
    user_factory(email="hr.person@example.gov.uk", groups=["HR"])
    sign_in(client, "hr.person@example.gov.uk")

    for path in ["/cms/", "/django-admin/", "/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == reverse("mfa_activate_totp"), path

    # allauth asks for the password again before any security change, then shows the set-up.
    response = client.get("/cms/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    assert "must set up two-factor sign-in" in response.content.decode()
    client.post(response.redirect_chain[-1][0], {"password": PASSWORD})
    setup_page = client.get(reverse("mfa_activate_totp"))
    assert setup_page.status_code == 200
    assert "Authenticator" in setup_page.content.decode()


@pytest.mark.django_db
def test_hr_user_with_totp_is_asked_for_a_code_then_reaches_the_admin(client, user_factory, roles):
    user = user_factory(email="hr.person@example.gov.uk", groups=["HR"])
    secret = totp_activate(user)

    response = sign_in(client, "hr.person@example.gov.uk")
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get("/cms/").status_code == 200


@pytest.mark.django_db
def test_a_learner_is_not_forced_to_set_up_mfa(client, user_factory, site):
    user_factory(email="learner@example.gov.uk")
    sign_in(client, "learner@example.gov.uk")

    assert client.get("/").status_code == 200
    assert not Authenticator.objects.exists()


@pytest.mark.django_db
def test_a_learner_cannot_open_the_admin(client, user_factory, site):
    user_factory(email="learner@example.gov.uk")
    sign_in(client, "learner@example.gov.uk")

    response = client.get("/cms/")

    assert response.status_code == 302
    assert response["Location"] == "/cms/login/?next=/cms/"
    # ...and the admin's sign-in says why, where it used to send a signed-in learner to allauth,
    # which sent them back to /cms/: a redirect loop.
    response = client.get(response["Location"])
    assert response.status_code == 403
    assert "your role does not include this part of Aware" in response.content.decode()


@pytest.mark.django_db
def test_a_learner_cannot_open_the_django_admin(client, user_factory, site):
    user_factory(email="learner@example.gov.uk")
    sign_in(client, "learner@example.gov.uk")

    response = client.get("/django-admin/", follow=True)

    assert [url for url, _ in response.redirect_chain] == [
        "/django-admin/login/?next=/django-admin/"
    ]
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_admin_sign_in_sends_someone_the_admin_lets_in_on(client, user_factory, roles):
    hr = user_factory(email="hr.adviser@example.gov.uk", groups=["HR"])
    totp_activate(hr)
    client.force_login(hr)

    response = client.get("/cms/login/?next=/cms/pages/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/cms/pages/"


@pytest.mark.django_db
@pytest.mark.usefixtures("celery_eager")
def test_password_reset_sends_a_link_that_sets_a_new_password(
    client, user_factory, mailoutbox, django_capture_on_commit_callbacks
):
    import re

    user_factory(email="forgetful@example.gov.uk")

    with django_capture_on_commit_callbacks(execute=True):  # the outbox's send task
        client.post(reverse("account_reset_password"), {"email": "forgetful@example.gov.uk"})

    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+", mailoutbox[0].body)
    assert link is not None
    path = link.group(0).split("testserver", 1)[-1]
    form_page = client.get(path, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"password1": "a-brand-new-password-9", "password2": "a-brand-new-password-9"},
    )
    assert User.objects.get(email="forgetful@example.gov.uk").check_password(
        "a-brand-new-password-9"
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("celery_eager")
def test_password_reset_for_an_unknown_email_reveals_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_reset_password"), {"email": "nobody@example.gov.uk"}, follow=True
        )

    assert response.status_code == 200
    assert len(mailoutbox) <= 1
    assert all("reset/key" not in m.body for m in mailoutbox)
