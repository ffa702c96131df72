"""Sign-in by an emailed code (allauth's login by code): partners, contractors and agency staff,
invited by HR with their organisation, who see only the modules assigned to them."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts.models import PersonType, QueuedEmail, User
from accounts.outbox import queued_emails_send
from cms.audit import ACTION_CREATE
from tests.factories import module_with_lessons
from training.models import Assignment, Audience

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", re.MULTILINE)
LINK = re.compile(r"https?://\S+/accounts/invited/[^/\s]+/")


def request_code(client, email):
    """Ask for a code; allauth's email goes through the outbox, which is then sent."""
    response = client.post(reverse("account_request_login_code"), {"email": email})
    queued_emails_send()
    return response


def code_from(message) -> str:
    found = CODE.findall(message.body)
    assert len(found) == 1, message.body
    return found[0]


@pytest.fixture
def partner(site, user_factory):
    return user_factory(
        email="sam@cleanstreets.example",
        password=None,
        full_name="Sam Patel",
        person_type=PersonType.OTHER,
        organisation="Clean Streets Ltd",
    )


@pytest.fixture
def hr_client(client, signed_in_with_mfa):
    signed_in_with_mfa("hr.person@example.gov.uk", groups=["HR"])
    return client


def test_a_code_request_emails_a_code_that_signs_the_person_in(client, partner, mailoutbox):
    response = request_code(client, partner.email)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_confirm_login_code"))
    page = client.get(response["Location"]).content.decode()
    assert "Enter your sign-in code" in page
    assert partner.email in page
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [partner.email]

    signed_in = client.post(
        reverse("account_confirm_login_code"), {"code": code_from(mailoutbox[0])}
    )

    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(partner.pk)


def test_a_wrong_code_is_refused_with_a_clear_message_and_signs_nobody_in(
    client, partner, mailoutbox
):
    request_code(client, partner.email)
    wrong = "ZZZZ-ZZZZ" if code_from(mailoutbox[0]) != "ZZZZ-ZZZZ" else "YYYY-YYYY"

    response = client.post(reverse("account_confirm_login_code"), {"code": wrong})

    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_code_tried_too_often_is_ended_with_a_clear_message_not_an_error(
    client, partner, mailoutbox
):
    # Three wrong codes end that code: the person is sent back to ask for a new one.
    request_code(client, partner.email)
    right = code_from(mailoutbox[0])
    wrong = "ZZZZ-ZZZZ" if right != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    tries = [
        client.post(reverse("account_confirm_login_code"), {"code": wrong}, follow=True)
        for _ in range(3)
    ]

    assert "Incorrect code" in tries[0].content.decode()
    assert all(t.status_code == 200 for t in tries)
    assert "Too many failed login attempts" in tries[-1].content.decode()
    assert tries[-1].redirect_chain[-1][0] == reverse("account_request_login_code")
    # The right code no longer works either.
    late = client.post(reverse("account_confirm_login_code"), {"code": right})
    assert late.status_code == 302
    assert "_auth_user_id" not in client.session


def test_asking_for_codes_too_often_gets_a_clear_message_not_an_error(partner, mailoutbox):
    """Each request from a fresh session (as a script would send them): three a minute for one
    address (ACCOUNT_RATE_LIMITS), then a clear refusal and no email."""
    answers = [request_code(Client(), partner.email) for _ in range(4)]

    assert [a.status_code for a in answers] == [302, 302, 302, 200]
    assert "Too many failed login attempts" in answers[-1].content.decode()
    assert len(mailoutbox) == 3


def test_a_code_is_refused_for_a_single_sign_on_only_address(client, site, user_factory):
    from accounts.models import SignInSettings

    SignInSettings.objects.update_or_create(
        site=site, defaults={"sso_only_domains": "example.gov.uk"}
    )
    user_factory(email="officer@example.gov.uk")

    response = request_code(client, "officer@example.gov.uk")

    assert response.status_code == 200
    assert "Staff with this email address sign in with the council" in response.content.decode()
    assert not QueuedEmail.objects.exists()


def test_hr_invites_a_list_and_each_link_starts_a_code_sign_in(
    hr_client, site, mailoutbox, django_capture_on_commit_callbacks
):
    pasted = (
        "name, email, organisation, phone\n"
        "Sam Patel, Sam@CleanStreets.example, Clean Streets Ltd, 07700 900123\n"
        "Jo Bloggs, jo@carers.example, Home Carers CIC\n"
        "No Email, not-an-address, Someone\n"
        "hr person, hr.person@example.gov.uk, HR\n"
    )
    with django_capture_on_commit_callbacks(execute=False):
        response = hr_client.post(reverse("accounts_partners_invite"), {"people": pasted})

    assert response.status_code == 302
    sam = User.objects.get(email="sam@cleanstreets.example")
    assert (sam.person_type, sam.organisation, sam.has_usable_password()) == (
        PersonType.OTHER,
        "Clean Streets Ltd",
        False,
    )
    assert User.objects.filter(email="jo@carers.example", organisation="Home Carers CIC").exists()
    created = ModelLogEntry.objects.filter(action=ACTION_CREATE, object_id=str(sam.pk)).get()
    assert created.data["via"] == "partner invitation"
    assert created.user.email == "hr.person@example.gov.uk"
    # The invitations wait in the outbox (a dead SMTP server loses none).
    assert QueuedEmail.objects.filter(message__by_code=True).count() == 2

    confirmation = hr_client.get(response["Location"]).content.decode()
    assert "Line 4:" in confirmation
    assert "not a valid email address" in confirmation
    assert "Line 5:" in confirmation
    assert "already in Aware (officer)" in confirmation
    assert "07700 900123" in confirmation
    assert confirmation.count('class="aware-qr"') == 2  # a QR code for each link

    assert queued_emails_send() == 2
    invitation = next(m for m in mailoutbox if m.to == ["sam@cleanstreets.example"])
    link = LINK.search(invitation.body).group(0)
    assert confirmation.count("/accounts/invited/") == 2

    hr_client.logout()
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    landing = hr_client.get(path).content.decode()
    assert "sam@cleanstreets.example" in landing
    assert 'action="/accounts/login/code/"' in landing
    mailoutbox.clear()
    sent = request_code(hr_client, "sam@cleanstreets.example")
    hr_client.post(reverse("account_confirm_login_code"), {"code": code_from(mailoutbox[0])})
    assert sent.status_code == 302
    assert hr_client.session["_auth_user_id"] == str(sam.pk)


def test_an_invitation_link_that_was_tampered_with_is_refused_clearly(client, site):
    response = client.get("/accounts/invited/not-a-real-token/")

    assert response.status_code == 404
    assert "This invitation link does not work" in response.content.decode()


def test_an_empty_or_unusable_list_changes_nothing(hr_client):
    response = hr_client.post(
        reverse("accounts_partners_invite"), {"people": "Only a name\nA, b, c, d, e"}
    )

    assert response.status_code == 200
    assert "Nobody on the list can be invited" in response.content.decode()
    assert not User.objects.filter(person_type=PersonType.OTHER).exists()
    assert not QueuedEmail.objects.exists()


def test_only_hr_may_invite(client, signed_in_with_mfa):
    signed_in_with_mfa("some.editor@example.gov.uk", groups=["Content editors"])

    response = client.post(
        reverse("accounts_partners_invite"), {"people": "Sam, sam@x.example, X Ltd"}
    )

    assert response.status_code == 403
    assert not User.objects.filter(email="sam@x.example").exists()


def test_the_associated_persons_audience_matches_partners_with_an_organisation(
    site, user_factory, partner
):
    from django.core.management import call_command

    call_command("load_training_content", stdout=open("/dev/null", "w"))  # noqa: SIM115
    audience = Audience.objects.get(slug="associated-persons")
    volunteer = user_factory(email="volunteer@example.org", person_type=PersonType.OTHER)
    officer = user_factory(email="officer@example.gov.uk", organisation="Should not count")

    members = set(User.objects.filter(audience.member_filter()))

    assert partner in members
    assert volunteer not in members
    assert officer not in members


def test_a_contractor_opening_a_module_not_assigned_to_them_is_refused(
    client, partner, django_assert_max_num_queries
):
    theirs = module_with_lessons(1, slug="theirs", title="Waste crime for contractors")
    other = module_with_lessons(1, slug="other", title="Procurement fraud")
    Assignment.objects.create(
        user=partner,
        module=theirs,
        assigned_at=timezone.now(),
        due_on=timezone.localdate() + dt.timedelta(days=30),
    )
    client.force_login(partner)

    refused = client.get(other.url)
    lesson_refused = client.get(other.get_children().first().url)
    catalogue = client.get(theirs.get_parent().url).content.decode()
    with django_assert_max_num_queries(40):
        opened = client.get(theirs.url)

    assert refused.status_code == 403
    assert "This module has not been assigned to you" in refused.content.decode()
    assert lesson_refused.status_code == 403
    assert opened.status_code == 200
    assert "Waste crime for contractors" in catalogue
    assert "Procurement fraud" not in catalogue


def test_an_officer_still_opens_any_module(client, site, user_factory):
    module = module_with_lessons(1, slug="any", title="Procurement fraud")
    client.force_login(user_factory(email="officer@example.gov.uk"))

    assert client.get(module.url).status_code == 200


def test_reports_filter_by_organisation(partner, user_factory):
    from training.reports.filters import ReportFilterForm, report_assignments

    module = module_with_lessons(1, slug="m", title="Waste crime")
    other = user_factory(
        email="jo@carers.example", person_type=PersonType.OTHER, organisation="Home Carers CIC"
    )
    for person in (partner, other):
        Assignment.objects.create(
            user=person,
            module=module,
            assigned_at=timezone.now(),
            due_on=timezone.localdate() + dt.timedelta(days=30),
        )

    form = ReportFilterForm({"organisation": "Clean Streets Ltd"})
    chosen = report_assignments(filters=form.to_filters(), now=timezone.now())

    assert ("Clean Streets Ltd", "Clean Streets Ltd") in form.fields["organisation"].choices
    assert [a.user for a in chosen] == [partner]
