"""What training holds on one person, for the subject access export and for erasure
(registered on accounts' PERSONAL_DATA_HOOK and PERSONAL_DATA_ERASE_HOOK in wagtail_hooks.py)."""

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from wagtail.models import ModelLogEntry

from accounts.models import User
from accounts.personal_data import PersonalFile, PersonalTable
from cms.audit import ERASED, audit_entries_scrub
from cms.selectors import council_settings
from training.certificates import certificate_pdf, certificate_verify_url
from training.models import (
    Assignment,
    ExemptionRequest,
    LessonProgress,
    ModuleCompletion,
    SentMessage,
    Status,
    ToolboxAttendance,
)
from training.services.retention import sent_messages_delete

EXEMPTION_ERASED = "Exempt (reason erased)"


def training_personal_data(person: User) -> list[PersonalTable | PersonalFile]:
    """Assignments and due dates, lesson progress, completion records with their verification
    codes (and each certificate as a PDF), the log of emails sent and the exemption requests
    made for them, and the toolbox talks they answered at. Ten queries, whatever
    the number of rows (certificates are drawn from rows already read)."""
    now = timezone.now()
    statuses = dict(Status.choices)
    assignments = PersonalTable(
        name="10-assignments",
        title="The modules you were asked to complete, due dates and status",
        headers=[
            "Module",
            "Mandatory",
            "Assigned",
            "Due",
            "Status",
            "Exemption reason",
            "Started",
            "Completed",
            "Valid until",
            "Closed",
            "Why closed",
        ],
        rows=[
            [
                a.module.title,
                a.mandatory,
                a.assigned_at,
                a.due_on,
                statuses.get(a.status, a.status),
                a.exempt_reason,
                a.started_at,
                a.completed_at,
                a.valid_until,
                a.closed_at,
                a.get_closed_reason_display(),
            ]
            for a in Assignment.objects.filter(user=person)
            .with_status(now)
            .select_related("module")
            .order_by("assigned_at", "pk")
        ],
    )
    progress = PersonalTable(
        name="11-lesson-progress",
        title="Each lesson you opened, and when you completed it",
        headers=["Module", "Lesson", "Module version", "First opened", "Completed"],
        rows=[
            [p.module.title, p.lesson.title, p.module_version, p.started_at, p.completed_at]
            for p in LessonProgress.objects.filter(user=person)
            .select_related("module", "lesson")
            .order_by("started_at", "pk")
        ],
    )
    records = list(
        ModuleCompletion.objects.filter(user=person)
        .select_related("module", "user")
        .order_by("completed_at", "pk")
    )
    completions = PersonalTable(
        name="12-completions-and-certificates",
        title="Your completion records (the evidence) and certificates, with verification codes",
        headers=[
            "Module",
            "Version",
            "Score (%)",
            "Completed",
            "Expires",
            "Verification code",
            "Check it at",
            "Source",
            "Certificate file",
        ],
        rows=[
            [
                r.module.title,
                r.module_version,
                r.score,
                r.completed_at,
                r.expires_at,
                r.verification_code,
                certificate_verify_url(r),
                r.source,
                f"certificates/{r.verification_code}.pdf",
            ]
            for r in records
        ],
    )
    council_name = council_settings().council_name if records else ""
    certificates = [
        PersonalFile(
            name=f"certificates/{r.verification_code}.pdf",
            content=certificate_pdf(completion=r, council_name=council_name),
        )
        for r in records
    ]
    sent = PersonalTable(
        name="13-emails-sent",
        title="The log of reminder and report emails sent to you",
        headers=["Kind", "Period", "Sent to", "State", "Logged", "Sent"],
        rows=[
            [
                m.get_kind_display(),
                m.period,
                m.recipient_email,
                m.get_state_display(),
                m.created_at,
                m.sent_at,
            ]
            for m in SentMessage.objects.filter(recipient=person).order_by("created_at", "pk")
        ],
    )
    requests = PersonalTable(
        name="14-exemption-requests",
        title="Requests your line manager made for you to be exempt, and HR's answers",
        headers=["Module", "Asked on", "Reason given", "Answer", "Answered on", "HR's note"],
        rows=[
            [
                r.assignment.module.title,
                r.requested_at,
                r.reason,
                r.get_state_display(),
                r.decided_at,
                r.decision_note,
            ]
            for r in ExemptionRequest.objects.filter(assignment__user=person)
            .select_related("assignment__module")
            .order_by("requested_at", "pk")
        ],
    )
    toolbox = PersonalTable(
        name="15-toolbox-talks",
        title="The toolbox talks you answered the check at, who ran them, and how you did",
        headers=["Module", "Answered", "Run and witnessed by", "Score (%)", "Passed", "Own phone"],
        rows=[
            [
                a.session.module.title,
                a.answered_at,
                a.witness.full_name,
                a.score,
                "yes" if a.passed else "no",
                "yes" if a.on_own_device else "no",
            ]
            for a in ToolboxAttendance.objects.filter(attendee=person)
            .select_related("session__module", "witness")
            .order_by("answered_at", "pk")
        ],
    )
    return [assignments, progress, completions, sent, requests, toolbox, *certificates]


def training_personal_data_erase(*, person: User, now: datetime) -> dict[str, int]:
    """Training's part of an erasure: the log of emails sent to them is deleted (through the
    one path the log's trigger allows), and exemption reasons (which may say why someone was
    away) are replaced, in the assignments, in exemption requests and in their audit trail.
    Assignments, progress and completion records stay."""
    exempted = Assignment.objects.filter(user=person).exclude(exempt_reason="")
    assignment_ids = [
        str(pk) for pk in Assignment.objects.filter(user=person).values_list("pk", flat=True)
    ]
    reasons = exempted.update(exempt_reason=EXEMPTION_ERASED)
    # A manager's reason for asking, and HR's note, may say why someone was away too.
    requests = ExemptionRequest.objects.filter(assignment__user=person).update(
        reason=ERASED, decision_note=""
    )
    audit_entries_scrub(
        entries=ModelLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Assignment),
            object_id__in=assignment_ids,
        ),
        fields=["exempt_reason"],
        reason=True,
    )
    messages = sent_messages_delete(
        messages=SentMessage.objects.filter(recipient=person), reason="erasure"
    )
    return {
        "exemption_reasons": reasons,
        "exemption_request_reasons": requests,
        "emails_sent_log_entries": messages,
    }
