"""The sign-in page's single sign-on buttons, as the council set them (SignInSettings)."""

from django import template

from accounts.selectors import sso_buttons

register = template.Library()


@register.simple_tag(takes_context=True)
def sso_sign_in_buttons(context) -> list:
    return sso_buttons(request=context["request"])
