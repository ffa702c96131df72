"""allauth's OpenID Connect provider, made strict: the ID token's signature and nonce are always
checked, and an identity provider that does not answer gets a clear page instead of an error."""
