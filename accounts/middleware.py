"""Keeps privileged users on the two-factor set-up page until they have an authenticator; lets
the sign-in page's single sign-on buttons reach the identity provider."""

from django.contrib import messages
from django.shortcuts import redirect

from accounts.selectors import sso_form_action_origins, user_lacks_required_mfa
from accounts.sso import SESSION_IDP_MFA

# Pages a user without MFA may still reach: sign-in, sign-out, MFA set-up, and public assets.
EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/", "/healthz", "/csp-report/")


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            # The identity provider's two-factor check, which the council trusts (accounts.sso).
            and request.session.get(SESSION_IDP_MFA) != user.pk
            and user_lacks_required_mfa(user=user)
        ):
            messages.warning(
                request,
                "Your role gives you access to people's records, so you must set up "
                "two-factor sign-in before you continue.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


# The sign-in page, allauth's "continue to the provider" page and Connected accounts.
SSO_FORM_PAGES = {"account_login", "openid_connect_login", "socialaccount_connections"}


class SsoFormActionMiddleware:
    """The sign-in page's single sign-on buttons post to Aware, which redirects the browser to
    the identity provider; the Content-Security-Policy's form-action covers the whole redirect
    chain, so the shown providers' origins are added to it, on that page only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = request.resolver_match
        if match is not None and match.url_name in SSO_FORM_PAGES:
            origins = sso_form_action_origins(request=request)
            if origins:
                response._csp_update = {"form-action": origins}
        return response
