"""Invitations to set a password for the people HR's import creates: kept in the outbox in the
import's own transaction (so a dead broker or SMTP server loses none), rendered as they are sent."""

import logging
from urllib.parse import urljoin

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from wagtail.models import Site

from accounts.models import QueuedEmail, User
from cms.models import CouncilSettings

logger = logging.getLogger(__name__)

EMAIL_BATCH_SIZE = 200  # invitations per send task (and SMTP connection)
INVITATION = "accounts/email/invitation"


def people_invitations_queue(*, users: list[User]) -> list[int]:
    """Keep an invitation for each of these active people in the outbox; returns their outbox
    ids. Call it inside the transaction that creates them: the invitations are then recorded
    exactly when the people are. Sends nothing: queue queued_emails_send_task with the ids (if
    the broker is down, queued_emails_retry_task sends them). Each is rendered when it is sent,
    so its link's validity starts then."""
    rows = QueuedEmail.objects.bulk_create(
        (
            QueuedEmail(template=INVITATION, message={"to": [user.email], "invite": user.pk})
            for user in users
            if user.is_active
        ),
        batch_size=1000,
    )
    return [row.pk for row in rows]


def invitation_email(*, user_id: int) -> EmailMessage | None:
    """The invitation for this person, rendered now, or None if they are no longer active.

    The link is allauth's password-reset key (valid for PASSWORD_RESET_TIMEOUT; afterwards the
    "forgotten password" page sends a fresh one)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    uid = user_pk_to_url_str(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": uid, "key": default_token_generator.make_token(user)},
    )
    context = {
        "user": user,
        "council_name": _council_name(),
        "password_reset_url": urljoin(settings.SITE_URL, path),
        "login_url": urljoin(settings.SITE_URL, reverse("account_login")),
        "reset_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    return get_adapter().render_mail(INVITATION, user.email, context)


def _council_name() -> str:
    site = Site.objects.filter(is_default_site=True).first()
    return CouncilSettings.for_site(site).council_name if site else settings.WAGTAIL_SITE_NAME
