"""A SAML 2.0 identity provider for the tests: pysaml2's IdP behind a small WSGI app, run in a
process of its own (python -m tests.sso.saml_idp DIR PORT).

DIR holds what the fixture (tests/sso/saml_idp/__init__.py) wrote: its signing key and
certificate, people.json (who may sign in, with what password and what the IdP asserts about
them) and sp/*.xml (the service providers' metadata: Aware's, as an admin would paste it into
Entra ID). Pages: /metadata (what Aware reads), /sso/redirect (takes Aware's AuthnRequest and
shows a login page a person types into), /login (checks the password, answers Aware's ACS with a
signed response through the HTTP-POST binding).
"""

import html
import json
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

PASSWORD_ONLY = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MULTI_FACTOR = "http://schemas.microsoft.com/claims/multipleauthn"


def idp_config(
    directory: Path, base_url: str, *, entity_id: str | None = None, keys: Path | None = None
) -> IdPConfig:
    """pysaml2's configuration for this IdP; the tests build the same one to forge responses
    (under another entity id, or signing with the key in another directory)."""
    keys = keys or directory
    config = IdPConfig()
    config.load(
        {
            "entityid": entity_id or f"{base_url}/metadata",
            "service": {
                "idp": {
                    "name": "Test council identity provider",
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{base_url}/sso/redirect", BINDING_HTTP_REDIRECT),
                        ],
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 5},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        },
                    },
                    "want_authn_requests_signed": False,
                    "sign_response": True,
                    "sign_assertion": True,
                },
            },
            "key_file": str(keys / "idp.key"),
            "cert_file": str(keys / "idp.crt"),
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "metadata": {"local": sorted(str(p) for p in (directory / "sp").glob("*.xml"))},
            "allow_unknown_attributes": True,
        }
    )
    return config


def identity_of(person: dict) -> dict:
    """The attributes Entra ID sends by default, under its claim names, plus the employee id."""
    claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims"
    identity = {
        "http://schemas.microsoft.com/identity/claims/objectidentifier": [person["object_id"]],
        f"{claims}/emailaddress": [person["email"]],
        f"{claims}/givenname": [person["given_name"]],
        f"{claims}/surname": [person["surname"]],
    }
    if person.get("employee_id"):
        identity["http://schemas.microsoft.com/identity/claims/employeeid"] = [
            person["employee_id"]
        ]
    return identity


def authn_response(server: Server, request_info, person: dict, **overrides) -> str:
    """A signed SAML response to the AuthnRequest for `person`, as the XML text."""
    args = server.response_args(request_info.message, [BINDING_HTTP_POST])
    args.pop("binding", None)
    args.update(overrides)
    return str(
        server.create_authn_response(
            identity_of(person),
            userid=person["email"],
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=person["email"]),
            authn={
                "class_ref": MULTI_FACTOR if person.get("mfa") else PASSWORD_ONLY,
                "authn_auth": server.config.entityid,
            },
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            **args,
        )
    )


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""


class IdentityProvider:
    def __init__(self, directory: Path, base_url: str):
        self.directory = directory
        self.base_url = base_url
        self.pending: dict[str, tuple] = {}  # login form key -> (request, relay state)

    def server(self) -> Server:
        # Built per request, so SP metadata written after start-up is read.
        return Server(config=idp_config(self.directory, self.base_url))

    def people(self) -> dict:
        return json.loads((self.directory / "people.json").read_text())

    def __call__(self, environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/metadata":
            xml = entity_descriptor(idp_config(self.directory, self.base_url)).to_string().decode()
            return self.reply(start_response, xml, "application/samlmetadata+xml")
        if path == "/sso/redirect":
            query = parse_qs(environ["QUERY_STRING"])
            server = self.server()
            request_info = server.parse_authn_request(
                query["SAMLRequest"][0], BINDING_HTTP_REDIRECT
            )
            key = secrets.token_urlsafe(16)
            self.pending[key] = (request_info, query.get("RelayState", [""])[0])
            return self.reply(start_response, self.login_page(key))
        if path == "/login" and environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            form = {
                k: v[0] for k, v in parse_qs(environ["wsgi.input"].read(length).decode()).items()
            }
            return self.login(start_response, form)
        return self.reply(start_response, "Not found", "text/plain", "404 Not Found")

    def login_page(self, key: str, error: str = "") -> str:
        error_html = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        body = (
            f'{error_html}<form method="post" action="/login">'
            f'<input type="hidden" name="key" value="{key}">'
            '<p><label for="username">Username</label> '
            '<input id="username" name="username" autocomplete="username"></p>'
            '<p><label for="password">Password</label> '
            '<input id="password" name="password" type="password"></p>'
            "<p><button>Sign in</button></p></form>"
        )
        return PAGE.format(title="Sign in to the council", body=body)

    def login(self, start_response, form: dict):
        key = form.get("key", "")
        if key not in self.pending:
            return self.reply(
                start_response, "Unknown sign-in request", "text/plain", "400 Bad Request"
            )
        person = self.people().get(form.get("username", ""))
        if person is None or not secrets.compare_digest(
            person["password"], form.get("password", "")
        ):
            return self.reply(start_response, self.login_page(key, "Wrong username or password"))
        request_info, relay_state = self.pending.pop(key)
        server = self.server()
        xml = authn_response(server, request_info, person)
        acs = server.response_args(request_info.message, [BINDING_HTTP_POST])["destination"]
        info = server.apply_binding(
            BINDING_HTTP_POST, xml, destination=acs, relay_state=relay_state, response=True
        )
        # pysaml2's form posts itself from a script; the button is for a browser without one.
        return self.reply(start_response, info["data"])

    @staticmethod
    def reply(start_response, body: str, content_type="text/html", status="200 OK"):
        data = body.encode()
        start_response(
            status,
            [
                ("Content-Type", f"{content_type}; charset=utf-8"),
                ("Content-Length", str(len(data))),
            ],
        )
        return [data]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass  # the requests carry people's emails: nothing in the test output


def main() -> None:
    directory, port = Path(sys.argv[1]), int(sys.argv[2])
    app = IdentityProvider(directory, f"http://127.0.0.1:{port}")
    with make_server("127.0.0.1", port, app, handler_class=QuietHandler) as httpd:
        httpd.serve_forever()
