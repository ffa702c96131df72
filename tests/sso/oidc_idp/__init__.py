"""A real OpenID Connect provider for the single sign-on tests: a small Django project running
django-allauth's own `allauth.idp.oidc`, in its own process (tests/sso/idp.py starts it).

It stands in for Microsoft Entra ID. Its users, their claims (employee number, `amr`) and
Aware's client are registered by the test fixture; `control.json` (IDP_CONTROL) switches it to
misbehave, for the refusal tests only.
"""
