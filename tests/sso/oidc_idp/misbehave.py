"""The test identity provider's claims, and its test-only switch to misbehave.

`control.json` (settings.IDP_CONTROL) is read on every request, so a test changes how the running
provider behaves by rewriting it:
    {"claims": {"<email>": {"employeeid": "E123", "amr": ["pwd", "mfa"]}},
     "mode": "normal" | "wrong_audience" | "wrong_issuer" | "expired" | "other_nonce"
             | "tampered" | "unsigned" | "wrong_key" | "replay",
     "tamper_email": "<address put into a tampered token>"}
"""

import base64
import json
from pathlib import Path

import jwt
from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.contrib.auth import get_user_model

_last_id_token: dict[str, str] = {}


def control() -> dict:
    return json.loads(Path(settings.IDP_CONTROL).read_text())


class IdentityProviderAdapter(DefaultOIDCAdapter):
    def populate_id_token(self, id_token, client, scopes, **kwargs) -> None:
        ctl = control()
        user = get_user_model().objects.filter(pk=id_token.get("sub")).first()
        if user is not None:
            id_token.update(ctl.get("claims", {}).get(user.email, {}))
        mode = ctl.get("mode", "normal")
        if mode == "wrong_audience":
            id_token["aud"] = "another-application"
        elif mode == "wrong_issuer":
            id_token["iss"] = "https://login.example.net/another-tenant/v2.0"
        elif mode == "expired":
            id_token["iat"] -= 3600
            id_token["exp"] = id_token["iat"] + 300
        elif mode == "other_nonce":
            id_token["nonce"] = "a-nonce-from-another-sign-in"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _rewrite(token: str, ctl: dict) -> str:
    mode = ctl.get("mode", "normal")
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(_unb64(header_b64))
    payload = json.loads(_unb64(payload_b64))
    if mode == "tampered":  # the claims changed after signing: the signature no longer fits
        payload["email"] = ctl["tamper_email"]
        return ".".join([header_b64, _b64(json.dumps(payload).encode()), signature_b64])
    if mode == "unsigned":
        unsigned_header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        return f"{unsigned_header}.{payload_b64}."
    if mode == "wrong_key":  # signed, but not with the key the provider publishes
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": header["kid"]})
    if mode == "replay" and "previous" in _last_id_token:
        return _last_id_token["previous"]
    return token


class MisbehaveMiddleware:
    """Rewrites the ID token in the token endpoint's answer, as control.json says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.endswith("/api/token") or response.status_code != 200:
            return response
        body = json.loads(response.content)
        if "id_token" not in body:
            return response
        ctl = control()
        if ctl.get("mode", "normal") == "normal":
            _last_id_token["previous"] = body["id_token"]
            return response
        body["id_token"] = _rewrite(body["id_token"], ctl)
        response.content = json.dumps(body).encode()
        response["Content-Length"] = str(len(response.content))
        return response
