"""allauth's two-factor login stage, accepting the identity provider's check when the council
trusts it (SignInSettings.trust_idp_mfa)."""

from allauth.mfa.stages import AuthenticateStage as MFAAuthenticateStage
from django.http import HttpRequest

from accounts import sso


class AuthenticateStage(MFAAuthenticateStage):
    def _should_handle(self, request: HttpRequest) -> bool:
        sociallogin = (self.login.signal_kwargs or {}).get("sociallogin")
        if self.login.user is not None and sso.idp_mfa_trusted(
            request=request, sociallogin=sociallogin
        ):
            # Remembered for this session only: RequireMFAMiddleware does not ask this
            # person to set up Aware's authenticator either.
            request.session[sso.SESSION_IDP_MFA] = self.login.user.pk
            return False
        return super()._should_handle(request)
