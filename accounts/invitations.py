"""Invitations to set a password, emailed to the people HR's import creates (by a task)."""

import logging
from urllib.parse import urljoin

from allauth.account.adapter import get_adapter
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import get_connection
from django.urls import reverse
from wagtail.models import Site

from accounts.importers import in_chunks
from accounts.models import User
from cms.models import CouncilSettings

logger = logging.getLogger(__name__)

EMAIL_BATCH_SIZE = 200


def people_invite(*, user_ids: list[int]) -> int:
    """Email each active person a link to set their password and sign in; returns how many.

    The link is allauth's password-reset key (valid for PASSWORD_RESET_TIMEOUT; afterwards the
    "forgotten password" page sends a fresh one). Sends email; logs counts only.
    """
    if not user_ids:
        return 0
    adapter = get_adapter()
    council_name = _council_name()
    sent = 0
    for chunk in in_chunks(user_ids, EMAIL_BATCH_SIZE):
        messages = []
        for user in User.objects.filter(pk__in=chunk, is_active=True):
            uid = user_pk_to_url_str(user)
            path = reverse(
                "account_reset_password_from_key",
                kwargs={"uidb36": uid, "key": default_token_generator.make_token(user)},
            )
            context = {
                "user": user,
                "council_name": council_name,
                "password_reset_url": urljoin(settings.SITE_URL, path),
                "login_url": urljoin(settings.SITE_URL, reverse("account_login")),
                "reset_days": settings.PASSWORD_RESET_TIMEOUT // 86400,
            }
            messages.append(adapter.render_mail("accounts/email/invitation", user.email, context))
        try:
            sent += get_connection().send_messages(messages) or 0
        except Exception:
            logger.exception("Could not send %d people invitation email(s)", len(messages))
    logger.info("People invitations sent: %d of %d", sent, len(user_ids))
    return sent


def _council_name() -> str:
    site = Site.objects.filter(is_default_site=True).first()
    return CouncilSettings.for_site(site).council_name if site else settings.WAGTAIL_SITE_NAME
