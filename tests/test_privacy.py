"""Privacy as UK GDPR asks of a council (issue 15): the subject access export, a leaver's
erasure under a pseudonym with the evidence still verifying, the retention job and its one
audited path through the email log's delete trigger, and the privacy notice."""

import csv
import io
import zipfile
from datetime import timedelta
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from accounts.erasure import person_erase, pseudonym_for
from accounts.models import Department, PeopleImport, PersonType, QueuedEmail, User
from accounts.personal_data import personal_data_zip
from accounts.services import user_deactivate
from cms.audit import (
    ACTION_EDIT,
    ACTION_ERASE,
    ACTION_RETENTION,
    ACTION_SUBJECT_ACCESS,
    audit_changes,
)
from cms.models import CouncilSettings, RetentionSettings
from quizzes.models import AttemptGrant
from quizzes.services import attempt_start, attempt_submit
from tests.conftest import totp_activate
from tests.factories import module_with_lessons
from tests.quizzes.conftest import finish_lessons, quiz_for, right_answers
from training.models import (
    Assignment,
    ExemptionRequest,
    ModuleCompletion,
    ReportExport,
    SentMessage,
)
from training.services.checkpoints import records_checkpoint_write
from training.services.retention import retention_sweep
from training.tasks import retention_sweep_task

pytestmark = pytest.mark.django_db

OLD_NAME, OLD_EMAIL, OLD_NUMBER = "Dana Leaverton", "dana.leaverton@example.gov.uk", "E-90417"
SICK_NOTE = "Off sick with stress until March"


def trained(person, *, modules: int, slug: str):
    """`person` assigned, taught and passed on `modules` modules (two lessons and two questions
    each), with one logged reminder each: rows in every table the export reads."""
    now = timezone.now()
    for number in range(modules):
        module = module_with_lessons(2, slug=f"{slug}-{number}", title=f"Module {slug} {number}")
        quiz = quiz_for(module, questions=2, pass_mark=50)
        Assignment.objects.create(
            user=person, module=module, assigned_at=now, due_on=timezone.localdate() + timedelta(30)
        )
        finish_lessons(person, module)
        attempt = attempt_start(user=person, quiz=quiz)
        attempt_submit(attempt=attempt, answers=right_answers(attempt))
        SentMessage.objects.create(
            recipient=person,
            recipient_email=person.email,
            kind=SentMessage.Kind.LEARNER,
            period=f"2026-W{10 + number}",
            created_at=now,
            state=SentMessage.State.SENT,
        )


@pytest.fixture
def person(site, roles, user_factory):
    """An officer with a department, a line manager, training done, a two-factor method, an
    email waiting in the outbox and an audit-trail entry."""
    department = Department.add_root(name="Neighbourhoods")
    manager = user_factory(email="mona.manager@example.gov.uk", full_name="Mona Manager")
    person = user_factory(
        email=OLD_EMAIL,
        full_name=OLD_NAME,
        employee_number=OLD_NUMBER,
        job_title="Tenancy <b>& Licensing Officer",  # markup the PDF must not read as markup
        department=department,
        line_manager=manager,
    )
    trained(person, modules=1, slug="a")
    totp_activate(person)
    # What a line manager did from My team: asked HR to exempt them, gave another attempt.
    assignment = Assignment.objects.get(user=person)
    ExemptionRequest.objects.create(
        assignment=assignment,
        requested_by=manager,
        requested_at=timezone.now(),
        reason=SICK_NOTE,
        state=ExemptionRequest.State.REFUSED,
        decision_note="Ask again when back",
    )
    AttemptGrant.objects.create(
        quiz=assignment.module.quiz,
        user=person,
        module_version=1,
        after_attempts=3,
        granted_by=manager,
        granted_at=timezone.now(),
    )
    QueuedEmail.objects.create(
        template="account/email/password_reset_key",
        message={"subject": "Reset your password", "body": "secret link", "to": [OLD_EMAIL]},
    )
    from cms.audit import audit_record

    audit_record(
        instance=person,
        action=ACTION_EDIT,
        changes=[
            {"field": "full_name", "label": "Full name", "before": "'Dana L'", "after": OLD_NAME}
        ],
    )
    return person


@pytest.fixture
def hr(signed_in_with_mfa):
    return signed_in_with_mfa("hana.hr@example.gov.uk", groups=["HR"], full_name="Hana Rees")


def zip_of(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def rows_of(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(StringIO(archive.read(name).decode("utf-8-sig"))))


# SUBJECT ACCESS


def test_hr_downloads_everything_held_on_a_person_and_the_download_is_audited(
    client, person, hr, user_factory, caplog
):
    other = user_factory(email="oscar.other@example.gov.uk", full_name="Oscar Other")
    trained(other, modules=1, slug="other")
    url = f"/cms/people/{person.pk}/personal-data/"

    page = client.get(url)
    assert page.status_code == 200
    assert b"Download everything Aware holds on this person" in page.content
    archive = zip_of(client.post(url))

    names = set(archive.namelist())
    assert {
        "summary.pdf",
        "01-profile.csv",
        "02-email-addresses.csv",
        "03-two-factor.csv",
        "04-queued-emails.csv",
        "05-audit-trail.csv",
        "10-assignments.csv",
        "11-lesson-progress.csv",
        "12-completions-and-certificates.csv",
        "13-emails-sent.csv",
        "14-exemption-requests.csv",
        "20-quiz-attempts.csv",
        "21-quiz-answers.csv",
        "23-extra-attempts.csv",
    } <= names
    assert archive.read("summary.pdf").startswith(b"%PDF")
    (profile,) = rows_of(archive, "01-profile.csv")
    assert profile["Name"] == OLD_NAME
    assert profile["Employee number"] == OLD_NUMBER
    assert profile["Department"] == "Neighbourhoods"
    assert profile["Line manager"] == "Mona Manager"
    (record,) = rows_of(archive, "12-completions-and-certificates.csv")
    own = ModuleCompletion.objects.get(user=person)
    assert record["Verification code"] == own.verification_code
    assert f"certificates/{own.verification_code}.pdf" in names
    answers = rows_of(archive, "21-quiz-answers.csv")
    assert len(answers) == 2
    assert all(a["Answers chosen"].startswith("Right") for a in answers)
    assert len(rows_of(archive, "11-lesson-progress.csv")) == 2
    assert rows_of(archive, "10-assignments.csv")[0]["Due"]
    assert rows_of(archive, "13-emails-sent.csv")[0]["Sent to"] == OLD_EMAIL
    assert rows_of(archive, "04-queued-emails.csv")[0]["Subject"] == "Reset your password"
    assert b"secret link" not in archive.read("04-queued-emails.csv")
    assert rows_of(archive, "03-two-factor.csv")[0]["Method"]
    (request,) = rows_of(archive, "14-exemption-requests.csv")
    assert (request["Reason given"], request["HR's note"]) == (SICK_NOTE, "Ask again when back")
    assert rows_of(archive, "23-extra-attempts.csv")[0]["After attempts"] == "3"
    assert any(OLD_NAME in e["What changed"] for e in rows_of(archive, "05-audit-trail.csv"))
    # Nobody else's records.
    everything = b"".join(archive.read(name) for name in names if name.endswith(".csv"))
    assert b"Oscar Other" not in everything
    assert ModuleCompletion.objects.get(user=other).verification_code.encode() not in everything

    entry = ModelLogEntry.objects.get(action=ACTION_SUBJECT_ACCESS)
    assert (entry.user, entry.object_id) == (hr, str(person.pk))
    assert entry.data == {}  # who, whose and when; never what it held
    assert "Subject access export of person" in caplog.text  # logged by id only
    assert OLD_NAME not in caplog.text
    assert OLD_EMAIL not in caplog.text


def test_the_export_reads_the_same_number_of_queries_whatever_a_person_holds(person, user_factory):
    busier = user_factory(email="busy.bee@example.gov.uk", full_name="Busy Bee")
    trained(busier, modules=3, slug="busy")
    personal_data_zip(person=person, council_name="Council")  # caches (content types) warm

    queries = []
    for someone in (person, busier):
        with CaptureQueriesContext(connection) as captured:
            personal_data_zip(person=someone, council_name="Council")
        queries.append(len(captured))

    assert queries[0] == queries[1], queries
    assert ModuleCompletion.objects.filter(user=busier).count() == 3


def test_only_roles_that_may_see_a_person_may_download_their_data(
    client, signed_in_with_mfa, person, user_factory
):
    councillor = user_factory(
        email="cllr.carys@example.gov.uk", full_name="Cllr Carys", person_type=PersonType.COUNCILLOR
    )
    members = signed_in_with_mfa("mel.members@example.gov.uk", groups=["Member Services"])

    assert client.post(f"/cms/people/{person.pk}/personal-data/").status_code == 404
    listing = client.get("/cms/users/").content.decode()
    assert f"/cms/people/{councillor.pk}/personal-data/" in listing
    assert f"/cms/people/{person.pk}/personal-data/" not in listing
    assert "/erase/" not in listing  # HR's only
    assert zip_of(client.post(f"/cms/people/{councillor.pk}/personal-data/"))

    signed_in_with_mfa("ed.editor@example.gov.uk", groups=["Content editors"])
    assert client.post(f"/cms/people/{councillor.pk}/personal-data/").status_code == 404
    assert client.post(f"/cms/people/{person.pk}/erase/").status_code == 403
    client.logout()
    assert client.post(f"/cms/people/{person.pk}/personal-data/").status_code == 302
    # Only the one download that was allowed is in the trail.
    (entry,) = ModelLogEntry.objects.filter(action=ACTION_SUBJECT_ACCESS)
    assert (entry.user, entry.object_id) == (members, str(councillor.pk))


# ERASURE


def test_a_leaver_past_the_retention_period_is_pseudonymised_and_the_evidence_still_verifies(
    client, person, user_factory, caplog
):
    from cms.audit import audit_record, audit_snapshot

    code = ModuleCompletion.objects.get(user=person).verification_code
    report = user_factory(email="rob.report@example.gov.uk", full_name="Rob Report")
    before = audit_snapshot(report, fields=["line_manager"])
    report.line_manager = person
    report.save()
    audit_record(
        instance=report,
        action=ACTION_EDIT,
        changes=audit_changes(before=before, after=audit_snapshot(report, fields=["line_manager"])),
    )
    recent = user_factory(email="recent.leaver@example.gov.uk", full_name="Recent Leaver")
    left = timezone.now() - timedelta(days=30 * 25)
    user_deactivate(user=person, now=left)
    user_deactivate(user=recent, now=timezone.now() - timedelta(days=30 * 23))
    client.force_login(person)
    assert Session.objects.exists()
    UserProfile.get_for_user(person)  # the admin profile (avatar, preferences)
    RetentionSettings.objects.update_or_create(site=person_site(), defaults={"leaver_months": 24})

    records_checkpoint_write()  # the chain's head, signed and filed before the erasure
    caplog.set_level("INFO")
    result = retention_sweep()

    assert result.leavers_erased == 1
    assert f"Personal data of person {person.pk} erased" in caplog.text
    assert OLD_NAME not in caplog.text
    assert OLD_EMAIL not in caplog.text
    person.refresh_from_db()
    assert person.full_name == pseudonym_for(person) != OLD_NAME
    assert person.full_name.startswith("Former staff member ")
    assert OLD_EMAIL not in person.email
    assert person.employee_number is None
    assert person.erased_at is not None
    assert not person.has_usable_password()
    assert not EmailAddress.objects.filter(user=person).exists()
    assert not Authenticator.objects.filter(user=person).exists()
    assert not QueuedEmail.objects.exists()
    assert not SentMessage.objects.filter(recipient=person).exists()
    assert not Session.objects.exists()
    assert not UserProfile.objects.filter(user=person).exists()
    assert User.objects.get(pk=recent.pk).full_name == "Recent Leaver"  # within the period
    # Sign-in is impossible, with the old address or the new one.
    assert not client.login(email=OLD_EMAIL, password="correct-horse-battery")
    assert not client.login(email=person.email, password="correct-horse-battery")
    # No name left in the audit trail about them; the erasure is recorded as counts.
    entries = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(person.pk)
    )
    assert OLD_NAME not in str(list(entries.values_list("label", "data")))
    # Nor in the entries about the people they managed: the pseudonym instead.
    (managed,) = ModelLogEntry.objects.filter(object_id=str(report.pk), action=ACTION_EDIT)
    assert managed.data["changes"][0]["after"] == person.full_name
    erased = entries.get(action=ACTION_ERASE)
    assert erased.data["counts"]["email_addresses"] == 1
    assert "via" in erased.data
    # The evidence is kept, and the chain and the certificate still verify, under the pseudonym.
    assert ModuleCompletion.objects.filter(user=person).count() == 1
    out = StringIO()
    call_command("verify_records", stdout=out)
    assert "All 1 completion records are intact." in out.getvalue()
    assert "Checked against the checkpoint" in out.getvalue()
    page = client.get(f"/verify/{code}/")
    assert page.status_code == 200
    assert b"Valid" in page.content
    assert person.full_name.encode() in page.content
    assert OLD_NAME.encode() not in page.content


def person_site():
    from wagtail.models import Site

    return Site.objects.get(is_default_site=True)


def test_hr_erases_a_leaver_now_after_a_confirmation_page_and_never_an_active_person(
    client, person, hr
):
    url = f"/cms/people/{person.pk}/erase/"
    page = client.get(url)
    assert b"still active" in page.content
    response = client.post(url, follow=True)
    assert b"still active" in response.content
    person.refresh_from_db()
    assert person.full_name == OLD_NAME
    assert person.erased_at is None

    user_deactivate(user=person, by=hr)
    edit = client.get(reverse("wagtailusers_users:edit", args=[person.pk]))
    assert edit.status_code == 200
    assert f"/cms/people/{person.pk}/personal-data/".encode() in edit.content
    assert f"/cms/people/{person.pk}/erase/".encode() in edit.content
    page = client.get(url)
    assert page.status_code == 200
    assert pseudonym_for(person).encode() in page.content
    response = client.post(url, follow=True)

    person.refresh_from_db()
    assert person.erased_at is not None
    assert person.full_name == pseudonym_for(person)
    assert pseudonym_for(person).encode() in response.content
    entry = ModelLogEntry.objects.get(action=ACTION_ERASE)
    assert entry.user == hr
    assert OLD_NAME not in str(entry.data)
    # A manager's reason for asking HR to exempt them said why they were away.
    assert list(ExemptionRequest.objects.values_list("reason", "decision_note")) == [
        ("(erased)", "")
    ]
    assert person_erase(person=person, by=hr) == {}  # once only


# RETENTION


def test_the_email_log_is_deleted_after_its_period_by_the_retention_job_only(person):
    now = timezone.now()
    old = SentMessage.objects.create(
        recipient=None,
        recipient_email="hr.mailbox@example.gov.uk",
        kind=SentMessage.Kind.HR_PACK,
        period="2023-01",
        created_at=now - timedelta(days=31 * 25),
        state=SentMessage.State.SENT,
    )
    kept = SentMessage.objects.filter(recipient=person).get()
    RetentionSettings.objects.update_or_create(
        site=person_site(), defaults={"message_log_months": 24}
    )

    with pytest.raises(DatabaseError), transaction.atomic():
        SentMessage.objects.filter(pk=old.pk).delete()

    result = retention_sweep_task()  # what beat runs daily: the service, once

    assert result["email_log_entries_deleted"] == 1
    assert list(SentMessage.objects.values_list("pk", flat=True)) == [kept.pk]
    entry = ModelLogEntry.objects.get(action=ACTION_RETENTION)
    assert entry.data["counts"]["email_log_entries_deleted"] == 1
    assert OLD_EMAIL not in str(entry.data)
    # The trigger is back: a plain delete is still refused.
    with pytest.raises(DatabaseError), transaction.atomic():
        SentMessage.objects.filter(pk=kept.pk).delete()
    assert SentMessage.objects.filter(pk=kept.pk).exists()


def test_the_retention_job_clears_stale_import_files_and_deletes_expired_exports(
    person, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    now = timezone.now()
    stale = PeopleImport.objects.create(
        token="stale", uploaded_by=person, filename="people.csv", csv_text="name,email\nA,a@b"
    )
    fresh = PeopleImport.objects.create(
        token="fresh", uploaded_by=person, filename="people.csv", csv_text="name,email\nB,b@c"
    )
    PeopleImport.objects.filter(pk=stale.pk).update(created_at=now - timedelta(hours=2))
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "old.csv").write_text("names")
    ReportExport.objects.create(
        owner=person,
        report="overdue",
        export_format="csv",
        state=ReportExport.State.READY,
        file_name="old.csv",
        created_at=now - timedelta(days=2),
        expires_at=now - timedelta(days=1),
    )

    result = retention_sweep(now=now)

    assert (result.import_files_cleared, result.report_exports_deleted) == (1, 1)
    assert PeopleImport.objects.get(pk=stale.pk).csv_text == ""
    assert PeopleImport.objects.get(pk=fresh.pk).csv_text != ""
    assert not (tmp_path / "exports" / "old.csv").exists()
    assert not ReportExport.objects.exists()


# PRIVACY NOTICE


def test_hr_sets_the_retention_periods_audited_and_the_privacy_notice_states_them(client, site, hr):
    CouncilSettings.objects.update_or_create(
        site=site, defaults={"data_protection_email": "dpo@example.gov.uk"}
    )
    url = f"/cms/settings/cms/retentionsettings/{site.pk}/"

    refused = client.post(url, {"leaver_months": "0", "message_log_months": "18"})
    assert refused.status_code == 200
    assert b"Ensure this value is greater than or equal to 1" in refused.content
    assert not RetentionSettings.objects.filter(message_log_months=18).exists()
    saved = client.post(url, {"leaver_months": "36", "message_log_months": "18"})
    assert saved.status_code == 302

    (entry,) = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(RetentionSettings), action=ACTION_EDIT
    )
    assert entry.user == hr
    assert {(c["field"], c["before"], c["after"]) for c in entry.data["changes"]} == {
        ("leaver_months", "24", "36"),
        ("message_log_months", "24", "18"),
    }
    client.logout()
    page = client.get("/privacy/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "36 months after you leave" in text
    assert "deleted after 18 months" in text
    assert 'href="mailto:dpo@example.gov.uk"' in text
    assert "public task" in text
    assert "legal advice" in text
    assert "subject access" in text
    for path in ["/", "/report-a-concern/", "/accounts/login/"]:
        assert 'href="/privacy/"' in client.get(path).content.decode(), path


def test_load_cms_data_replaces_the_shipped_privacy_page_but_keeps_an_edited_one(site):
    from wagtail.rich_text import RichText

    from cms.models import HomePage, PrivacyNoticePage, StandardPage

    home = HomePage.objects.get()

    def old_privacy_page(edits: int) -> StandardPage:
        PrivacyNoticePage.objects.all().delete()
        page = StandardPage(
            title="Privacy notice",
            slug="privacy",
            summary="Old.",
            body=[("rich_text", RichText(""))],
        )
        home.add_child(instance=page)
        for _ in range(edits + 1):
            page.save_revision().publish()
        return page

    old_privacy_page(edits=0)
    call_command("load_cms_data", stdout=StringIO())
    assert not StandardPage.objects.filter(slug="privacy").exists()
    assert PrivacyNoticePage.objects.live().get().url == "/privacy/"

    edited = old_privacy_page(edits=1)
    out = StringIO()
    call_command("load_cms_data", stdout=out)
    assert StandardPage.objects.filter(pk=edited.pk).exists()
    assert not PrivacyNoticePage.objects.exists()
    assert "An edited privacy page is at /privacy/" in out.getvalue()
