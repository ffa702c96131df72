"""Reminder services: the daily sweep plans digests from the records, logs each message once, and
sends it from a Celery task. State-based, so a missed or repeated run neither loses nor repeats."""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Site

from accounts.models import PersonType, User
from cms.services import task_enqueue_on_commit
from training.models import Assignment, ReminderSettings, ReportSettings, SentMessage, Status

logger = logging.getLogger(__name__)
SWEEP_LOCK = 7_242_002  # PostgreSQL advisory lock id: one sweep at a time
STALE_PENDING = timedelta(minutes=10)
Kind = SentMessage.Kind
CAPPED_KINDS = [
    Kind.LEARNER,
    Kind.MANAGER,
    Kind.SENIOR_MANAGER,
]  # emails to a person, not a mailbox

# Why an assignment is in a digest.
DUE_SOON, OVERDUE, EXPIRING, EXPIRED = "due-soon", "overdue", "expiring", "expired"


@dataclass
class Item:
    assignment: Assignment
    reason: str
    days: int  # days until due / expiry (due soon, expiring) or days late (overdue, expired)

    def as_record(self) -> dict:
        return {"assignment": self.assignment.pk, "reason": self.reason, "days": self.days}


@dataclass
class PlannedMessage:
    kind: str
    email: str
    recipient: User | None
    items: list[Item] = field(default_factory=list)
    figures: dict = field(default_factory=dict)


@dataclass
class SweepResult:
    planned: list[PlannedMessage]
    created: int = 0
    queued: int = 0
    skipped: str = ""


def reminder_settings() -> ReminderSettings:
    return ReminderSettings.for_site(Site.objects.get(is_default_site=True))


def _item_for(assignment: Assignment, *, now: datetime, rules: ReminderSettings) -> Item | None:
    today = timezone.localdate(now)
    if assignment.completed_at is None:
        if assignment.due_on < today:
            return Item(assignment, OVERDUE, (today - assignment.due_on).days)
        if (assignment.due_on - today).days <= rules.due_soon_days:
            return Item(assignment, DUE_SOON, (assignment.due_on - today).days)
        return None
    if assignment.valid_until is None:
        return None
    expiry = timezone.localdate(assignment.valid_until)
    if assignment.valid_until <= now:
        return Item(assignment, EXPIRED, (today - expiry).days)
    if (expiry - today).days <= rules.expiring_days:
        return Item(assignment, EXPIRING, (expiry - today).days)
    return None


def _history(user_ids: set[int], kinds: list[str], since: datetime) -> dict:
    """(assignment id, kind, reason) → the latest date it was listed, from the message log."""
    latest: dict[tuple[int, str, str], date] = {}
    for kind, created_at, items in (
        SentMessage.objects.filter(kind__in=kinds, created_at__gte=since)
        .filter(Q(recipient_id__in=user_ids) | Q(recipient__isnull=True))
        .values_list("kind", "created_at", "items")
    ):
        day = timezone.localdate(created_at)
        for item in items:
            if "assignment" not in item:
                continue
            key = (item["assignment"], kind, item["reason"])
            if key not in latest or latest[key] < day:
                latest[key] = day
    return latest


def _due(item: Item, kind: str, history: dict, *, today: date, every: int) -> bool:
    """Is this item due to be (re)listed in a `kind` message today?"""
    last = history.get((item.assignment.pk, kind, item.reason))
    if item.reason in (DUE_SOON, EXPIRING):
        since = item.assignment.completed_at
        return last is None or (since is not None and last < timezone.localdate(since))
    return last is None or (today - last).days >= every


def reminders_plan(*, now: datetime | None = None) -> list[PlannedMessage]:
    """Everything the sweep would send now. Reads only; the query count grows with the size of
    the batches, not with the number of people."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rules = reminder_settings()
    horizon = max(rules.due_soon_days, rules.expiring_days)
    candidates = list(
        Assignment.objects.open()
        .filter(exempt_reason="", user__is_active=True)
        .filter(Q(user__on_leave_until__isnull=True) | Q(user__on_leave_until__lt=today))
        .filter(
            Q(completed_at__isnull=True, due_on__lte=today + timedelta(days=rules.due_soon_days))
            | Q(valid_until__lte=now + timedelta(days=horizon))
        )
        .select_related("module", "user__line_manager__line_manager")
        .order_by("user_id", "due_on")
    )
    items = [i for a in candidates if (i := _item_for(a, now=now, rules=rules))]
    user_ids = {i.assignment.user_id for i in items}
    managers = {i.assignment.user.line_manager for i in items} - {None}
    senior_managers = {m.line_manager for m in managers} - {None}
    history = _history(
        user_ids | {m.pk for m in managers | senior_managers},
        [k.value for k in Kind],
        now - timedelta(days=400),
    )
    # The weekly cap is per person, over their own digests and their team digests alike.
    recent = dict(
        SentMessage.objects.filter(
            kind__in=CAPPED_KINDS,
            recipient_id__in=user_ids | {m.pk for m in managers | senior_managers},
            created_at__gt=now - timedelta(days=7),
        )
        .values_list("recipient_id")
        .annotate(n=Count("pk"))
    )
    planned: dict[tuple[str, str], PlannedMessage] = {}

    def add(kind: str, email: str, recipient: User | None, item: Item) -> None:
        message = planned.setdefault(
            (kind, email), PlannedMessage(kind=kind, email=email, recipient=recipient)
        )
        message.items.append(item)

    by_user: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        by_user[item.assignment.user_id].append(item)
    for user_items in by_user.values():
        person = user_items[0].assignment.user
        fresh = [
            i
            for i in user_items
            if _due(i, Kind.LEARNER, history, today=today, every=rules.overdue_every_days)
        ]
        if fresh:
            for item in user_items:  # the digest lists everything that needs attention
                add(Kind.LEARNER, person.email, person, item)
        for item in user_items:
            if item.reason not in (OVERDUE, EXPIRED):
                continue
            for level, threshold in (
                (1, rules.escalate_after_days),
                (2, rules.escalate_again_after_days),
            ):
                if item.days < threshold:
                    continue
                target = _escalation_target(person, level, rules)
                if target is None:
                    continue
                kind, email, recipient = target
                if _due(item, kind, history, today=today, every=rules.overdue_every_days):
                    add(kind, email, recipient, item)
    messages = []
    # A person's own digest first, then team digests, while their weekly cap allows. What is
    # held back is still due tomorrow, so it goes out once the cap does.
    emails_this_week = dict(recent)
    for message in sorted(planned.values(), key=_cap_order):
        if message.recipient is not None:
            sent = emails_this_week.get(message.recipient.pk, 0)
            if sent >= rules.weekly_cap:
                continue
            emails_this_week[message.recipient.pk] = sent + 1
        messages.append(message)
    hr_mailbox = ReportSettings.for_site(Site.objects.get(is_default_site=True)).hr_mailbox
    if hr_mailbox:  # once a week: the week is its period, so only the first sweep sends it
        messages.append(_hr_summary(now=now, email=hr_mailbox))
    return messages


def _cap_order(message: PlannedMessage) -> int:
    return CAPPED_KINDS.index(message.kind) if message.kind in CAPPED_KINDS else len(CAPPED_KINDS)


def _escalation_target(person: User, level: int, rules: ReminderSettings):
    if person.person_type == PersonType.COUNCILLOR:
        if level == 1 and rules.member_services_email:
            return Kind.MEMBER_SERVICES, rules.member_services_email, None
        if level == 2 and rules.monitoring_officer_email:
            return Kind.MONITORING_OFFICER, rules.monitoring_officer_email, None
        return None
    manager = person.line_manager
    if level == 2 and manager is not None:
        manager = manager.line_manager
    if manager is None or not manager.is_active:
        return None
    return (Kind.MANAGER if level == 1 else Kind.SENIOR_MANAGER), manager.email, manager


def _hr_summary(*, now: datetime, email: str) -> PlannedMessage:
    figures = dict(
        Assignment.objects.open()
        .filter(user__is_active=True)
        .with_status(now)
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return PlannedMessage(
        kind=Kind.HR_SUMMARY,
        email=email,
        recipient=None,
        figures={Status(s).label: figures.get(s, 0) for s in Status.values},
    )


def _period(kind: str, today: date) -> str:
    if kind == Kind.HR_SUMMARY:
        year, week, _ = today.isocalendar()
        return f"{year}-W{week:02d}"
    return today.isoformat()


def reminders_sweep(
    *, now: datetime | None = None, dry_run: bool = False, send_now: bool = False
) -> SweepResult:
    """Plan today's reminders, log each message once (the unique key makes a second run or a
    second scheduler a no-op), then queue a send task per message after commit. Pending messages
    left by a crashed run are queued again. With `send_now`, sends in this process instead."""
    now = now or timezone.now()
    planned = reminders_plan(now=now)
    result = SweepResult(planned=planned)
    if dry_run:
        return result
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SWEEP_LOCK])
                if not cursor.fetchone()[0]:
                    result.skipped = "another sweep is running"
                    return result
        today = timezone.localdate(now)
        rows = [
            SentMessage(
                recipient=p.recipient,
                recipient_email=p.email,
                kind=p.kind,
                period=_period(p.kind, today),
                items=[i.as_record() for i in p.items] or [{"figures": p.figures}],
                created_at=now,
            )
            for p in planned
        ]
        before = SentMessage.objects.count()
        SentMessage.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        result.created = SentMessage.objects.count() - before
        pending = list(
            SentMessage.objects.filter(state=SentMessage.State.PENDING)
            .filter(Q(created_at=now) | Q(created_at__lt=now - STALE_PENDING))
            .values_list("pk", flat=True)
        )
        result.queued = len(pending)
        if not send_now:
            from training.tasks import reminder_send_task

            for message_id in pending:
                task_enqueue_on_commit(reminder_send_task, message_id)
    if send_now:
        for message_id in pending:
            try:
                reminder_message_send(message_id=message_id)
            except OSError as exc:
                reminder_message_failed(message_id=message_id, error=exc, final=False)
    return result


def reminder_message_send(*, message_id: int) -> bool:
    """Send one logged message if it is still pending; mark it sent. Safe to call twice."""
    with transaction.atomic():
        message = SentMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.state != SentMessage.State.PENDING:
            return False
        message.attempts += 1
        email = get_adapter().render_mail(
            TEMPLATES[message.kind], message.recipient_email, reminder_context(message)
        )
        email.send()
        message.state, message.sent_at, message.error = SentMessage.State.SENT, timezone.now(), ""
        message.save(update_fields=["state", "sent_at", "attempts", "error"])
    return True


def reminder_message_failed(*, message_id: int, error: Exception, final: bool) -> None:
    """Record a failed attempt; after the last retry the message is marked failed."""
    SentMessage.objects.filter(pk=message_id, state=SentMessage.State.PENDING).update(
        error=f"{type(error).__name__}: {error}"[:250],
        **({"state": SentMessage.State.FAILED} if final else {}),
    )


TEMPLATES = {
    Kind.LEARNER: "email/reminders/learner",
    Kind.MANAGER: "email/reminders/escalation",
    Kind.SENIOR_MANAGER: "email/reminders/escalation",
    Kind.MEMBER_SERVICES: "email/reminders/escalation",
    Kind.MONITORING_OFFICER: "email/reminders/escalation",
    Kind.HR_SUMMARY: "email/reminders/hr_summary",
}


def reminder_context(message: SentMessage) -> dict:
    """What the templates need, rebuilt from the log so a retry sends exactly what was planned."""
    from cms.models import CouncilSettings

    site = Site.objects.get(is_default_site=True)
    base = settings.SITE_URL.rstrip("/")
    records = [r for r in message.items if "assignment" in r]
    assignments = Assignment.objects.select_related("module", "user").in_bulk(
        [r["assignment"] for r in records]
    )
    lines = [
        {
            "person": assignments[r["assignment"]].user.full_name,
            "module": assignments[r["assignment"]].module.title,
            "url": base + assignments[r["assignment"]].module.get_url(),
            "reason": r["reason"],
            "days": r["days"],
            "due_on": assignments[r["assignment"]].due_on,
        }
        for r in records
        if r["assignment"] in assignments
    ]
    figures = next((r["figures"] for r in message.items if "figures" in r), {})
    return {
        "council_name": CouncilSettings.for_site(site).council_name,
        "recipient": message.recipient,
        "kind": message.kind,
        "kind_label": message.get_kind_display(),
        "lines": lines,
        "figures": figures,
        "my_training_url": base + reverse("training:my_training"),
        "my_team_url": base + reverse("training:my_team"),
        "reports_url": base + "/cms/",
    }


def reminder_schedule_apply() -> None:
    """Point the beat schedule for the sweep at the time and days in the reminder settings."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    rules = reminder_settings()
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=str(rules.send_time.minute),
        hour=str(rules.send_time.hour),
        day_of_week=rules.send_days,
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.update_or_create(
        name="reminder-sweep",
        defaults={
            "task": "training.tasks.reminders_sweep_task",
            "crontab": crontab,
            "interval": None,
            "enabled": True,
        },
    )


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
        },
        {
            "person": "Alex Morgan",
            "module": "Payment, invoice and cyber-enabled fraud",
            "url": base + "/training/",
            "reason": DUE_SOON,
            "days": 5,
            "due_on": timezone.localdate() + timedelta(days=5),
        },
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
        "my_training_url": base + reverse("training:my_training"),
        "my_team_url": base + reverse("training:my_team"),
        "reports_url": base + "/cms/",
    }


def reminders_last_sent(*, assignment_users: dict[int, int]) -> dict[int, datetime]:
    """When a reminder last went to the learner about each assignment, given as
    {assignment id: the person's id}: one query."""
    wanted = set(assignment_users)
    users = set(assignment_users.values())
    last: dict[int, datetime] = {}
    for sent_at, items in SentMessage.objects.filter(
        kind=Kind.LEARNER, state=SentMessage.State.SENT, recipient_id__in=users
    ).values_list("sent_at", "items"):
        for item in items:
            assignment_id = item.get("assignment")
            if assignment_id in wanted and (
                assignment_id not in last or last[assignment_id] < sent_at
            ):
                last[assignment_id] = sent_at
    return last
