"""The weekly content review digest: to each module's owner (Wagtail's page owner) and to the
content editors, what is due for review (training.selectors.content_review_list)."""

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cms.selectors import council_settings
from training.models import SentMessage
from training.reminders.log import scheduled_message_log
from training.selectors import ContentReview, content_review_list

EDITORS_GROUP = "Content editors"
TEMPLATE = "email/reminders/content_review"


def _items(review: ContentReview) -> list[dict]:
    """What the digest lists, as the log keeps it (titles and dates: no personal data)."""
    return [
        *(
            {"module": m.pk, "title": m.title, "review_by": m.review_by.isoformat()}
            for m in review.modules
        ),
        *(
            {
                "route": r.name,
                "last_verified": r.last_verified.isoformat() if r.last_verified else None,
            }
            for r in review.routes
        ),
        *(
            {
                "lesson": lesson.pk,
                "title": lesson.title,
                "module": module.title,
                "last_reviewed": lesson.last_reviewed.isoformat() if lesson.last_reviewed else None,
            }
            for lesson, module in review.lessons
        ),
    ]


def content_review_digest_log(*, now=None) -> list[int]:
    """Log this ISO week's digest once per recipient (the key is the recipient and the week, so
    a second beat or a retried task logs nothing new): every active content editor gets all of
    it; a module's owner who is not an editor gets what is about their modules. Nobody with
    nothing to review gets one. Returns the ids waiting to be sent. Sends nothing."""
    now = now or timezone.now()
    review = content_review_list(today=timezone.localdate(now))
    if not review:
        return []
    year, week, _ = timezone.localdate(now).isocalendar()
    period = f"{year}-W{week:02d}"
    owner_ids = {m.owner_id for m in review.modules} | {m.owner_id for _, m in review.lessons}
    people = (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name=EDITORS_GROUP) | Q(pk__in=owner_ids - {None}))
        .exclude(email="")
        .prefetch_related("groups")
        .distinct()
        .order_by("pk")
    )
    pending = []
    for person in people:
        is_editor = any(g.name == EDITORS_GROUP for g in person.groups.all())
        theirs = review if is_editor else review.for_owner(user=person)
        if not theirs:
            continue
        message_id = scheduled_message_log(
            kind=SentMessage.Kind.CONTENT_REVIEW,
            email=person.email,
            period=period,
            items=_items(theirs),
            recipient=person,
        )
        if message_id is not None:
            pending.append(message_id)
    return pending


def content_review_email(message: SentMessage) -> EmailMessage:
    """The digest's email, rebuilt from the log (what was due when it was logged)."""
    base = settings.SITE_URL.rstrip("/")

    def edit_url(page_id: int) -> str:
        return base + reverse("wagtailadmin_pages:edit", args=[page_id])

    items = message.items
    context = {
        "council_name": council_settings().council_name,
        "modules": [i | {"url": edit_url(i["module"])} for i in items if "review_by" in i],
        "routes": [i for i in items if "route" in i],
        "lessons": [i | {"url": edit_url(i["lesson"])} for i in items if "lesson" in i],
        "verify_months": settings.AWARE_ROUTE_VERIFY_MONTHS,
        "routes_url": base + reverse("wagtailsettings:edit", args=["cms", "reportingroutes"]),
    }
    return get_adapter().render_mail(TEMPLATE, message.recipient_email, context)
