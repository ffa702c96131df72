"""allauth's forms, as Aware changes them (ACCOUNT_FORMS). Not in accounts/forms.py: allauth's
forms module imports that one's SignupForm, so the two cannot import each other."""

from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import RequestLoginCodeForm as AllauthRequestLoginCodeForm
from allauth.core import context as allauth_context
from django import forms

from accounts import sso


class LoginForm(AllauthLoginForm):
    """allauth's password sign-in, refused (saying why) for single sign-on only addresses."""

    def clean(self):
        email = (self.cleaned_data.get("login") or "").strip()
        if sso.email_is_sso_only(request=self.request, email=email):
            raise forms.ValidationError(sso.sso_only_message(request=self.request))
        return super().clean()


class RequestLoginCodeForm(AllauthRequestLoginCodeForm):
    """allauth's "email me a sign-in code", refused (saying why) for single sign-on only
    addresses, as password sign-in is."""

    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip()
        request = allauth_context.request
        if sso.email_is_sso_only(request=request, email=email):
            raise forms.ValidationError(sso.sso_only_message(request=request))
        return super().clean_email()
