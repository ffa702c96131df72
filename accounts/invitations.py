"""Invitations to set a password (or, for single sign-on only addresses, to sign in with the
council's account) for the people HR's import creates: kept in the outbox in the import's own
transaction (so a dead broker or SMTP server loses none), rendered as they are sent."""

import logging
from urllib.parse import urljoin

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.urls import reverse
from wagtail.models import Site

from accounts.models import QueuedEmail, User
from accounts.selectors import sign_in_settings, sso_button_text
from accounts.sso import email_domain
from cms.models import CouncilSettings

logger = logging.getLogger(__name__)

INVITE_LINK_DAYS = 30  # a partner's code sign-in link (accounts.partners)
INVITE_SALT = "aware.partner-invitation"
EMAIL_BATCH_SIZE = 200  # invitations per send task (and SMTP connection)
INVITATION = "accounts/email/invitation"


def people_invitations_queue(*, users: list[User], by_code: bool = False) -> list[int]:
    """Keep an invitation for each of these active people in the outbox; returns their outbox
    ids. Call it inside the transaction that creates them: the invitations are then recorded
    exactly when the people are. Sends nothing: queue queued_emails_send_task with the ids (if
    the broker is down, queued_emails_retry_task sends them). Each is rendered when it is sent,
    so its link's validity starts then. With `by_code` (partners, accounts.partners) the link
    starts a sign-in by emailed code instead of setting a password."""
    rows = QueuedEmail.objects.bulk_create(
        (
            QueuedEmail(
                template=INVITATION,
                message={"to": [user.email], "invite": user.pk}
                | ({"by_code": True} if by_code else {}),
            )
            for user in users
            if user.is_active
        ),
        batch_size=1000,
    )
    return [row.pk for row in rows]


def invitation_email(*, user_id: int, by_code: bool = False) -> EmailMessage | None:
    """The invitation for this person, rendered now, or None if they are no longer active.

    The link is allauth's password-reset key (valid for PASSWORD_RESET_TIMEOUT; afterwards the
    "forgotten password" page sends a fresh one). Staff whose domain signs in only by the
    council's account get no password link: the email names the button instead. Partners
    (`by_code`, accounts.partners) get a link that emails them a sign-in code instead."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    if by_code:
        context = {
            "user": user,
            "council_name": _council_name(),
            "code_sign_in_url": invitation_link(user=user),
            "link_days": INVITE_LINK_DAYS,
            "login_url": urljoin(settings.SITE_URL, reverse("account_request_login_code")),
        }
        return get_adapter().render_mail(INVITATION, user.email, context)
    sso_only = email_domain(user.email) in sign_in_settings(None).sso_only_domain_set
    uid = user_pk_to_url_str(user)
    path = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": uid, "key": default_token_generator.make_token(user)},
    )
    context = {
        "user": user,
        "sso_button": sso_button_text(request=None) if sso_only else "",
        "council_name": _council_name(),
        "password_reset_url": "" if sso_only else urljoin(settings.SITE_URL, path),
        "login_url": urljoin(settings.SITE_URL, reverse("account_login")),
        "reset_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    return get_adapter().render_mail(INVITATION, user.email, context)


def _council_name() -> str:
    site = Site.objects.filter(is_default_site=True).first()
    return CouncilSettings.for_site(site).council_name if site else settings.WAGTAIL_SITE_NAME


def invitation_link(*, user: User) -> str:
    """The full link that starts a code sign-in for this person's address."""
    token = signing.dumps({"email": user.email.lower()}, salt=INVITE_SALT, compress=True)
    return urljoin(settings.SITE_URL, reverse("accounts_invited_sign_in", args=[token]))


def invitation_email_of(*, token: str) -> str | None:
    """The address an invitation link was made for, or None if it is forged or too old."""
    try:
        data = signing.loads(token, salt=INVITE_SALT, max_age=INVITE_LINK_DAYS * 86400)
    except signing.BadSignature:
        return None
    return data.get("email") if isinstance(data, dict) else None
