"""python -m tests.sso.saml_idp DIR PORT: the test SAML identity provider."""

from .server import main

main()
