"""What a reminder email says: its template and context, rebuilt from the log; sample previews."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Site

from accounts.models import User
from cms.models import CouncilSettings
from training.models import Assignment, ExemptionRequest, LessonProgress, SentMessage, Status
from training.reminders.planning import DUE_SOON, OVERDUE, Kind
from training.selectors import lesson_totals

TEMPLATES = {
    Kind.LEARNER: "email/reminders/learner",
    Kind.MANAGER: "email/reminders/escalation",
    Kind.SENIOR_MANAGER: "email/reminders/escalation",
    Kind.MEMBER_SERVICES: "email/reminders/escalation",
    Kind.MONITORING_OFFICER: "email/reminders/escalation",
    Kind.HR_SUMMARY: "email/reminders/hr_summary",
    Kind.MODULE_UPDATED: "email/reminders/module_updated",
    Kind.NUDGE: "email/reminders/nudge",
    Kind.EXEMPTION_REQUEST: "email/reminders/exemption_request",
}


def reminder_context(message: SentMessage) -> dict:
    """What the templates need, rebuilt from the log so a retry sends exactly what was planned."""
    site = Site.objects.get(is_default_site=True)
    base = settings.SITE_URL.rstrip("/")
    records = [r for r in message.items if "assignment" in r]
    assignments = Assignment.objects.select_related("module", "user").in_bulk(
        [r["assignment"] for r in records]
    )
    done = {
        (row["user_id"], row["module_id"]): row["done"]
        for row in LessonProgress.objects.filter(
            user_id__in={a.user_id for a in assignments.values()},
            module_id__in={a.module_id for a in assignments.values()},
            lesson__live=True,
            lesson__refresher=False,
            completed_at__isnull=False,
        )
        .values("user_id", "module_id")
        .annotate(done=Count("pk"))
    }
    totals = lesson_totals(module_ids={a.module_id for a in assignments.values()})
    lines = []
    for r in records:
        assignment = assignments.get(r["assignment"])
        if assignment is None:
            continue
        lines.append(
            {
                "person": assignment.user.full_name,
                "module": assignment.module.title,
                "url": base + assignment.module.get_url(),
                "reason": r["reason"],
                "days": r["days"],
                "late": r.get("late", False),
                "due_on": assignment.due_on,
                "lessons_done": done.get((assignment.user_id, assignment.module_id), 0),
                "lessons_total": totals.get(assignment.module_id, 0),
                "version": r.get("version"),
                "change_note": r.get("change_note", ""),
            }
        )
    # A manager's nudge names the manager; a request to HR carries the manager's reason.
    sender_ids = {r["by"] for r in records if "by" in r}
    request_ids = [r["request"] for r in records if "request" in r]
    figures = next((r["figures"] for r in message.items if "figures" in r), {})
    return {
        "council_name": CouncilSettings.for_site(site).council_name,
        "recipient": message.recipient,
        "kind": message.kind,
        "kind_label": message.get_kind_display(),
        "lines": lines,
        "figures": figures,
        "sender": User.objects.filter(pk__in=sender_ids).first() if sender_ids else None,
        "exemption_request": (
            ExemptionRequest.objects.filter(pk__in=request_ids).first() if request_ids else None
        ),
        "my_training_url": base + reverse("training:my_training"),
        "my_team_url": base + reverse("training:my_team"),
        "reports_url": base + "/cms/",
        "exemption_requests_url": base + reverse("wagtailsnippets_training_exemptionrequest:list"),
    }


def reminder_sample_context(kind: str) -> dict:
    """Made-up content for the admin's email previews."""
    base = settings.SITE_URL.rstrip("/")
    sample = [
        {
            "person": "Alex Morgan",
            "module": "Modern slavery and human trafficking",
            "url": base + "/training/",
            "reason": OVERDUE,
            "days": 16,
            "due_on": timezone.localdate() - timedelta(days=16),
            "lessons_done": 2,
            "lessons_total": 6,
        },
        {
            "person": "Alex Morgan",
            "module": "Payment, invoice and cyber-enabled fraud",
            "url": base + "/training/",
            "reason": DUE_SOON,
            "days": 5,
            "due_on": timezone.localdate() + timedelta(days=5),
            "lessons_done": 0,
            "lessons_total": 5,
        },
    ]
    if kind == Kind.MODULE_UPDATED:
        sample = [
            {
                "person": "Jordan Reid",
                "module": "Modern slavery and human trafficking",
                "url": base + "/training/",
                "reason": "module-updated",
                "days": 60,
                "due_on": timezone.localdate() + timedelta(days=60),
                "version": 2,
                "change_note": "New duty to notify under the 2026 guidance.",
            }
        ]
    return {
        "council_name": "Aware Demo Council",
        "recipient": User(full_name="Jordan Reid", email="someone@example.gov.uk"),
        "kind": kind,
        "kind_label": SentMessage.Kind(kind).label,
        "lines": sample,
        "figures": {
            label: n for label, n in zip(Status.labels, [40, 25, 310, 12, 9, 3, 2], strict=True)
        },
        "sender": User(full_name="Sam Manager", email="manager@example.gov.uk"),
        "exemption_request": ExemptionRequest(reason="Already trained at their previous council."),
        "my_training_url": base + reverse("training:my_training"),
        "my_team_url": base + reverse("training:my_team"),
        "reports_url": base + "/cms/",
        "exemption_requests_url": base + reverse("wagtailsnippets_training_exemptionrequest:list"),
    }
