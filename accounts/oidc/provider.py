"""The OpenID Connect provider Aware uses (SOCIALACCOUNT_PROVIDERS): allauth's own, plus a
nonce, and a clear page when the identity provider is down."""

from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest
from django.utils.crypto import get_random_string
from requests import RequestException

from accounts.oidc.views import StrictOpenIDConnectAdapter

NONCE_LENGTH = 32


class AwareOpenIDConnectProvider(OpenIDConnectProvider):
    package = "accounts.oidc"  # its URLs (same names and paths as allauth's) check the signature
    oauth2_adapter_class = StrictOpenIDConnectAdapter

    def get_oauth2_adapter(self, request: HttpRequest):
        return self.oauth2_adapter_class(request, self.app.provider_id)

    def redirect(self, request: HttpRequest, process, next_url=None, data=None, **kwargs):
        # The nonce goes to the identity provider and into the single-use state kept in the
        # session; the ID token must carry it back (accounts.sso checks it), so a token issued
        # for another sign-in is refused.
        nonce = get_random_string(NONCE_LENGTH)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params["nonce"] = nonce
        try:
            return super().redirect(
                request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
            )
        except RequestException as e:  # its discovery document did not load
            return render_authentication_error(request, self, exception=e)


provider_classes = [AwareOpenIDConnectProvider]
