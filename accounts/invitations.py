"""Invitations to set a password (or, for single sign-on only addresses, to sign in with the
council's account), emailed to the people HR's import creates (by a task)."""

import logging
from urllib.parse import urljoin

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.urls import reverse
from wagtail.models import Site

from accounts.importers import in_chunks
from accounts.models import User
from accounts.outbox import emails_store, queued_emails_send
from accounts.selectors import sign_in_settings, sso_button_text
from accounts.sso import email_domain
from cms.models import CouncilSettings

logger = logging.getLogger(__name__)

EMAIL_BATCH_SIZE = 200
INVITATION = "accounts/email/invitation"


def people_invite(*, user_ids: list[int]) -> int:
    """Email each active person a link to set their password and sign in; returns how many
    went now (the outbox keeps the rest until SMTP takes them).

    The link is allauth's password-reset key (valid for PASSWORD_RESET_TIMEOUT; afterwards the
    "forgotten password" page sends a fresh one). Sends email; logs counts only.
    """
    if not user_ids:
        return 0
    adapter = get_adapter()
    council_name = _council_name()
    # Staff whose domain signs in only by the council's account get no password link.
    sso_only_domains = sign_in_settings(None).sso_only_domain_set
    sso_button = sso_button_text(request=None) if sso_only_domains else ""
    sent = 0
    for chunk in in_chunks(user_ids, EMAIL_BATCH_SIZE):
        messages = []
        for user in User.objects.filter(pk__in=chunk, is_active=True):
            sso_only = email_domain(user.email) in sso_only_domains
            uid = user_pk_to_url_str(user)
            path = reverse(
                "account_reset_password_from_key",
                kwargs={"uidb36": uid, "key": default_token_generator.make_token(user)},
            )
            context = {
                "user": user,
                "sso_button": sso_button if sso_only else "",
                "council_name": council_name,
                "password_reset_url": "" if sso_only else urljoin(settings.SITE_URL, path),
                "login_url": urljoin(settings.SITE_URL, reverse("account_login")),
                "reset_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
            }
            messages.append(adapter.render_mail(INVITATION, user.email, context))
        # Kept in the outbox first: what SMTP refuses now, queued_emails_retry_task sends later.
        email_ids = emails_store(messages=messages, template=INVITATION)
        sent += queued_emails_send(email_ids=email_ids)
    logger.info("People invitations sent now: %d of %d", sent, len(user_ids))
    return sent


def _council_name() -> str:
    site = Site.objects.filter(is_default_site=True).first()
    return CouncilSettings.for_site(site).council_name if site else settings.WAGTAIL_SITE_NAME
