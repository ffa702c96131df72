"""Single sign-on by SAML 2.0 against a real identity provider process (tests/sso/saml_idp):
an HR-imported officer signs in and lands on My training; every response the IdP would never
send (tampered, unsigned, for another audience, from another issuer, expired, replayed) and the
IdP being down are refused with a clear page, changing nothing."""

import base64
import re
import time
import urllib.parse
import urllib.request
from html import unescape

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core.cache import cache

from accounts.models import User
from accounts.sso_saml import saml_performed_mfa, saml_setup_values
from tests.sso.saml_idp import key_and_certificate
from tests.sso.saml_idp.server import authn_response

pytestmark = pytest.mark.django_db

HOST = "localhost"  # python3-saml accepts localhost but not a single-label name like testserver
OFFICER = {
    "password": "idp-password-1",
    "email": "sam.officer@example.gov.uk",
    "given_name": "Sam",
    "surname": "Officer",
    "object_id": "5b0d3c8e-1111-4a57-9d0e-0c4f6b7e2a01",
    "employee_id": "E1001",
}


@pytest.fixture
def aware(client, saml_app, saml_idp, user_factory):
    """An HR-imported officer, the council's IdP trusting Aware's SP metadata, and the client."""
    client.defaults["HTTP_HOST"] = HOST
    metadata = client.get("/accounts/saml/council/metadata/")
    assert metadata.status_code == 200
    saml_idp.trust_service_provider(metadata.content, "aware-client")
    saml_idp.people({"sam": OFFICER})
    officer = user_factory(email=OFFICER["email"], full_name="Sam Officer")
    return client, officer


def sign_in_start(client, next_url=None) -> str:
    """Press the SAML sign-in (the confirmation page's Continue): Aware redirects to the IdP."""
    response = client.post("/accounts/saml/council/login/", {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def idp_types_in(url: str, username: str, password: str) -> dict:
    """At the IdP's real login page: open it, type, submit; return the form it posts to Aware."""
    with urllib.request.urlopen(url, timeout=10) as page:  # noqa: S310
        html = page.read().decode()
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    login = urllib.parse.urljoin(url, "/login")
    data = urllib.parse.urlencode({"key": key, "username": username, "password": password})
    with urllib.request.urlopen(login, data.encode(), timeout=10) as answer:  # noqa: S310
        html = answer.read().decode()
    fields = dict(re.findall(r'name="(SAMLResponse|RelayState)" value="([^"]*)"', html))
    return {k: unescape(v) for k, v in fields.items()}


def post_to_acs(client, form: dict):
    """The browser posting the IdP's form to Aware's ACS, then following Aware's redirects."""
    response = client.post("/accounts/saml/council/acs/", form)
    assert response.status_code == 302
    return client.get(response["Location"])


def forged(client, saml_idp, *, server=None, person=OFFICER, xml_edit=None, **overrides) -> dict:
    """A response to Aware's real AuthnRequest built here with pysaml2 (the IdP's key unless
    another server is given), with what the real IdP would never do (overrides, xml_edit)."""
    from saml2 import BINDING_HTTP_REDIRECT

    url = sign_in_start(client)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    server = server or saml_idp.server()
    request_info = server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
    xml = authn_response(server, request_info, person, **overrides)
    if xml_edit:
        xml = xml_edit(xml)
    return {
        "SAMLResponse": base64.b64encode(xml.encode()).decode(),
        "RelayState": query.get("RelayState", [""])[0],
    }


def counts() -> tuple:
    return User.objects.count(), SocialAccount.objects.count(), EmailAddress.objects.count()


def assert_refused(client, response, officer, before, *, heading: str, status: int = 401):
    page = response.content.decode()
    assert response.status_code == status
    assert heading in page
    assert "Nothing has been changed" in page
    assert counts() == before
    assert "_auth_user_id" not in client.session
    officer.refresh_from_db()
    assert officer.last_login is None


def test_officer_signs_in_at_the_idp_and_lands_on_my_training(aware, saml_idp):
    client, officer = aware
    # Pressed on the sign-in page itself: no page to go back to, so My training.
    form = idp_types_in(sign_in_start(client), "sam", OFFICER["password"])
    response = post_to_acs(client, form)

    assert response.status_code == 302
    assert response["Location"] == "/my-training/"
    assert client.get("/my-training/").status_code == 200
    assert int(client.session["_auth_user_id"]) == officer.pk
    account = SocialAccount.objects.get(user=officer)
    # Linked by the IdP's stable object id, not by the (changeable) email address.
    assert account.uid == OFFICER["object_id"]
    assert User.objects.count() == 1
    # A password at the IdP only: Aware does not count it as multi-factor.
    login = type("Login", (), {"account": account})()
    assert saml_performed_mfa(login) is False


def test_idp_that_performed_mfa_says_so_in_the_authn_context(aware, saml_idp):
    client, officer = aware
    saml_idp.people({"sam": {**OFFICER, "mfa": True}})
    post_to_acs(client, idp_types_in(sign_in_start(client), "sam", OFFICER["password"]))

    account = SocialAccount.objects.get(user=officer)
    assert account.extra_data["authn_context_class_refs"] == [
        "http://schemas.microsoft.com/claims/multipleauthn"
    ]
    assert saml_performed_mfa(type("Login", (), {"account": account})()) is True


def test_wrong_password_at_the_idp_signs_nobody_in(aware, saml_idp):
    client, _officer = aware
    url = sign_in_start(client)
    with urllib.request.urlopen(url, timeout=10) as page:  # noqa: S310
        key = re.search(r'name="key" value="([^"]+)"', page.read().decode()).group(1)
    data = urllib.parse.urlencode({"key": key, "username": "sam", "password": "guess"})
    with urllib.request.urlopen(f"{saml_idp.base_url}/login", data.encode()) as answer:  # noqa: S310
        html = answer.read().decode()
    assert "Wrong username or password" in html
    assert "SAMLResponse" not in html


def tamper_email(xml: str) -> str:
    tampered = xml.replace(OFFICER["email"], "someone.else@example.gov.uk")
    assert tampered != xml
    return tampered


@pytest.mark.parametrize(
    ("case", "expected_reason"),
    [
        ("tampered", "Signature validation failed"),
        ("unsigned", "The Assertion of the Response is not signed"),
        ("only the response signed", "The Assertion of the Response is not signed"),
        ("wrong key", "Signature validation failed"),
        ("wrong audience", "is not a valid audience"),
        ("wrong issuer", "Invalid issuer"),
        ("expired", "expired"),
    ],
)
def test_a_response_the_idp_would_never_send_is_refused(
    aware, saml_idp, tmp_path, case, expected_reason
):
    client, officer = aware
    before = counts()
    if case == "tampered":
        form = forged(client, saml_idp, xml_edit=tamper_email)
    elif case == "unsigned":
        form = forged(client, saml_idp, sign_response=False, sign_assertion=False)
    elif case == "only the response signed":
        form = forged(client, saml_idp, sign_response=True, sign_assertion=False)
    elif case == "wrong key":
        key_and_certificate(tmp_path, "Attacker")
        form = forged(client, saml_idp, server=saml_idp.server(key_directory=tmp_path))
    elif case == "wrong audience":  # for another service the IdP also serves
        elsewhere = "https://elsewhere.example.org/saml"
        metadata = client.get("/accounts/saml/council/metadata/").content
        other_sp = metadata.replace(
            b"http://localhost/accounts/saml/council/metadata/", elsewhere.encode()
        )
        saml_idp.trust_service_provider(other_sp, "elsewhere")
        form = forged(client, saml_idp, sp_entity_id=elsewhere)
    elif case == "wrong issuer":
        other = saml_idp.server(entity_id="https://attacker.example.org/idp")
        form = forged(client, saml_idp, server=other)
    else:  # expired: issued an hour ago, valid for five minutes
        with time_machine.travel(time.time() - 3600, tick=False):
            form = forged(client, saml_idp)

    response = post_to_acs(client, form)

    assert_refused(
        client, response, officer, before, heading="Sign-in with your council account did not work"
    )
    assert expected_reason in response.content.decode()


def test_the_same_response_posted_twice_is_refused_the_second_time(aware, saml_idp):
    client, officer = aware
    form = idp_types_in(sign_in_start(client), "sam", OFFICER["password"])
    assert post_to_acs(client, form)["Location"] == "/my-training/"
    client.logout()
    officer.last_login = None
    officer.save(update_fields=["last_login"])
    before = counts()

    response = post_to_acs(client, form)

    assert_refused(client, response, officer, before, heading="This sign-in has already been used")


@pytest.mark.parametrize("metadata", ["already fetched", "not yet fetched"])
def test_idp_down_gives_a_clear_page_and_email_sign_in_still_works(aware, saml_idp, metadata):
    client, officer = aware
    before = counts()
    saml_idp.stop()
    if metadata == "not yet fetched":
        cache.clear()  # the metadata Aware read when the fixture fetched its SP metadata
    try:
        response = client.post("/accounts/saml/council/login/", {"next": "/my-training/"})
        if metadata == "not yet fetched":
            sp_metadata = client.get("/accounts/saml/council/metadata/")
            assert sp_metadata.status_code == 503
            assert "could not read the identity provider's metadata" in sp_metadata.text
    finally:
        saml_idp.start()

    assert_refused(
        client,
        response,
        officer,
        before,
        heading="Your council's sign-in service is not answering",
        status=503,
    )
    assert "sign in with your email address" in response.content.decode()
    signed_in = client.post(
        "/accounts/login/", {"login": OFFICER["email"], "password": "correct-horse-battery"}
    )
    assert signed_in.status_code == 302
    assert int(client.session["_auth_user_id"]) == officer.pk


def test_setup_values_are_what_entra_id_needs(aware, saml_app, rf, settings):
    settings.ALLOWED_HOSTS = ["aware.example.gov.uk"]
    request = rf.get("/", HTTP_HOST="aware.example.gov.uk")
    values = saml_setup_values(request=request, app=saml_app)
    base = "http://aware.example.gov.uk/accounts/saml/council"
    assert values == {
        "Identifier (Entity ID)": f"{base}/metadata/",
        "Reply URL (Assertion Consumer Service URL)": f"{base}/acs/",
        "Sign on URL": f"{base}/login/",
        "Service provider metadata URL": f"{base}/metadata/",
    }
