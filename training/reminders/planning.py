"""Planning reminders: which digests are due today, to whom, listing what (reads only)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from wagtail.models import Site

from accounts.models import PersonType, User
from training.models import (
    DUE_SOON_DAYS,
    Assignment,
    ReminderSettings,
    ReportSettings,
    SentMessage,
    Status,
)

Kind = SentMessage.Kind

CAPPED_KINDS = [
    Kind.LEARNER,
    Kind.MANAGER,
    Kind.SENIOR_MANAGER,
    Kind.NUDGE,  # a line manager's, from My team: never planned, but counted in the cap
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
class Unrouted:
    """An escalation nobody can be told of: the councillor's mailbox (Member Services or the
    Monitoring Officer) is blank in Settings → Reminders."""

    mailbox: str  # "Member Services" or "Monitoring Officer"
    item: Item

    @property
    def councillor(self) -> User:
        return self.item.assignment.user


@dataclass
class ReminderPlan:
    messages: list[PlannedMessage]
    unrouted: list[Unrouted] = field(default_factory=list)


# The councillors' escalation mailboxes (fields of ReminderSettings), and whose they are.
ESCALATION_MAILBOXES = {
    "member_services_email": "Member Services",
    "monitoring_officer_email": "Monitoring Officer",
}


def reminder_settings() -> ReminderSettings:
    return ReminderSettings.for_site(Site.objects.get(is_default_site=True))


def escalation_mailboxes_missing(*, rules: ReminderSettings | None = None) -> list[str]:
    """Whose escalation mailbox is blank ("Member Services", "Monitoring Officer"): overdue
    councillors' escalations to them go nowhere until it is set."""
    rules = rules or reminder_settings()
    return [name for attname, name in ESCALATION_MAILBOXES.items() if not getattr(rules, attname)]


def _item_for(assignment: Assignment, *, now: datetime, rules: ReminderSettings) -> Item | None:
    today = timezone.localdate(now)
    if assignment.completed_at is None:
        if assignment.due_on < today:
            return Item(assignment, OVERDUE, (today - assignment.due_on).days)
        if (assignment.due_on - today).days <= DUE_SOON_DAYS:
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


def message_period(kind: str, today: date) -> str:
    """The period in a logged message's once-only key: the ISO week for the HR summary, else
    the day."""
    if kind == Kind.HR_SUMMARY:
        year, week, _ = today.isocalendar()
        return f"{year}-W{week:02d}"
    return today.isoformat()


def _not_logged_today(kind: str, email: str, *, today: date) -> Exists:
    """True for a row whose `email` (a path from the assignment) has no `kind` message logged
    today: once one is, the log's key refuses another until tomorrow."""
    return ~Exists(
        SentMessage.objects.filter(
            recipient_email=OuterRef(email), kind=kind, period=message_period(kind, today)
        )
    )


def _mailbox_open(kind: str, email: str, *, today: date) -> bool:
    """Can a `kind` message to this mailbox still be logged this period?"""
    return (
        bool(email)
        and not SentMessage.objects.filter(
            recipient_email=email, kind=kind, period=message_period(kind, today)
        ).exists()
    )


def _still_owed(*, now: datetime, rules: ReminderSettings) -> Q:
    """The assignments that could still add to a message not yet logged today: the learner's
    own digest, or (overdue or expired long enough to escalate) their manager's, manager's
    manager's, Member Services' or the Monitoring Officer's. Everything else would only plan a
    message the log's key refuses, so a second sweep the same day skips the people who have had
    today's digest and the managers who have had theirs, and reads little. (A superset, by a day
    or two: the items themselves are worked out below.)"""
    today = timezone.localdate(now)
    owed = Q(_not_logged_today(Kind.LEARNER, "user__email", today=today))
    councillor = Q(user__person_type=PersonType.COUNCILLOR)
    for threshold, kind, manager, mailbox_kind, mailbox in (
        (
            rules.escalate_after_days,
            Kind.MANAGER,
            "user__line_manager",
            Kind.MEMBER_SERVICES,
            rules.member_services_email,
        ),
        (
            rules.escalate_again_after_days,
            Kind.SENIOR_MANAGER,
            "user__line_manager__line_manager",
            Kind.MONITORING_OFFICER,
            rules.monitoring_officer_email,
        ),
    ):
        late = Q(completed_at__isnull=True, due_on__lte=today - timedelta(days=threshold)) | Q(
            valid_until__lte=now - timedelta(days=max(threshold - 2, 0))
        )
        targets = ~councillor & Q(
            _not_logged_today(kind, f"{manager}__email", today=today),
            **{f"{manager}__isnull": False, f"{manager}__is_active": True},
        )
        if _mailbox_open(mailbox_kind, mailbox, today=today):
            targets |= councillor
        owed |= late & targets
    return owed


# What planning reads of each candidate: tens of thousands of them at a council's scale.
_PERSON_FIELDS = ["email", "full_name", "is_active", "person_type"]
_PLAN_FIELDS = [
    "pk",
    "user_id",
    "module_id",
    "due_on",
    "completed_at",
    "valid_until",
    "module__title",
    *(f"user__{name}" for name in _PERSON_FIELDS),
    *(f"user__line_manager__{name}" for name in _PERSON_FIELDS),
    *(f"user__line_manager__line_manager__{name}" for name in _PERSON_FIELDS),
]


def reminders_plan(*, now: datetime | None = None) -> ReminderPlan:
    """Everything the sweep would send now that the log does not hold yet (a message already
    logged under its key, e.g. today's digest to that address, is not planned again, nor read
    for: see _still_owed), and the councillors' escalations it cannot send for want of a
    mailbox. Reads only; the query count grows with the size of the batches, not with the
    number of people."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rules = reminder_settings()
    horizon = max(DUE_SOON_DAYS, rules.expiring_days)
    candidates = list(
        Assignment.objects.open()
        .filter(exempt_reason="", user__is_active=True)
        .filter(Q(user__on_leave_until__isnull=True) | Q(user__on_leave_until__lt=today))
        .filter(
            Q(completed_at__isnull=True, due_on__lte=today + timedelta(days=DUE_SOON_DAYS))
            | Q(valid_until__lte=now + timedelta(days=horizon))
        )
        .filter(_still_owed(now=now, rules=rules))
        .select_related("module", "user__line_manager__line_manager")
        .only(*_PLAN_FIELDS)
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
    unrouted: list[Unrouted] = []

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
                    if person.person_type == PersonType.COUNCILLOR:
                        mailbox = ESCALATION_MAILBOXES[COUNCILLOR_ESCALATIONS[level][1]]
                        unrouted.append(Unrouted(mailbox=mailbox, item=item))
                    continue
                kind, email, recipient = target
                if _due(item, kind, history, today=today, every=rules.overdue_every_days):
                    add(kind, email, recipient, item)
    # Today's messages already logged: planned again they would only take a place in the cap.
    logged = set(
        SentMessage.objects.filter(
            period=today.isoformat(), recipient_email__in={email for _, email in planned}
        ).values_list("kind", "recipient_email")
    )
    messages = []
    # A person's own digest first, then team digests, while their weekly cap allows. What is
    # held back is still due tomorrow, so it goes out once the cap does.
    emails_this_week = dict(recent)
    for message in sorted(planned.values(), key=_cap_order):
        if (message.kind, message.email) in logged:
            continue
        if message.recipient is not None:
            sent = emails_this_week.get(message.recipient.pk, 0)
            if sent >= rules.weekly_cap:
                continue
            emails_this_week[message.recipient.pk] = sent + 1
        messages.append(message)
    hr_mailbox = ReportSettings.for_site(Site.objects.get(is_default_site=True)).hr_mailbox
    # Once a week: the week is its period, so only the first sweep that week counts it.
    if _mailbox_open(Kind.HR_SUMMARY, hr_mailbox, today=today):
        messages.append(_hr_summary(now=now, email=hr_mailbox))
    return ReminderPlan(messages=messages, unrouted=unrouted)


def _cap_order(message: PlannedMessage) -> int:
    return CAPPED_KINDS.index(message.kind) if message.kind in CAPPED_KINDS else len(CAPPED_KINDS)


# A councillor's escalation at each level: which kind of message, to which mailbox.
COUNCILLOR_ESCALATIONS = {
    1: (Kind.MEMBER_SERVICES, "member_services_email"),
    2: (Kind.MONITORING_OFFICER, "monitoring_officer_email"),
}


def _escalation_target(person: User, level: int, rules: ReminderSettings):
    if person.person_type == PersonType.COUNCILLOR:
        kind, attname = COUNCILLOR_ESCALATIONS[level]
        email = getattr(rules, attname)
        return (kind, email, None) if email else None
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
