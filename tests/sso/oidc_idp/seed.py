"""Registers the test identity provider's users and Aware's client, from JSON on stdin:
{"users": [{"email", "password", "name", "email_verified"}],
 "client": {"id", "secret", "redirect_uris"}}
or, with `--redirect-uri URI`, adds one more redirect URI to the client."""

import json
import sys

import django


def main() -> None:
    django.setup()
    from allauth.account.models import EmailAddress
    from allauth.idp.oidc.models import Client
    from django.contrib.auth import get_user_model

    if sys.argv[1:2] == ["--redirect-uri"]:
        client = Client.objects.get()
        client.set_redirect_uris([*client.get_redirect_uris(), sys.argv[2]])
        client.save()
        return
    data = json.load(sys.stdin)
    User = get_user_model()
    for person in data["users"]:
        user = User.objects.create_user(
            username=person["email"], email=person["email"], password=person["password"]
        )
        first, _, last = person.get("name", "").partition(" ")
        user.first_name, user.last_name = first, last
        user.save()
        EmailAddress.objects.create(
            user=user, email=person["email"], verified=person["email_verified"], primary=True
        )
    spec = data["client"]
    client = Client(id=spec["id"], name="Aware", type=Client.Type.CONFIDENTIAL, skip_consent=True)
    client.set_secret(spec["secret"])
    client.set_redirect_uris(spec["redirect_uris"])
    client.set_scopes(["openid", "profile", "email"])
    client.set_default_scopes(["openid", "profile", "email"])
    client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE])
    client.set_response_types(["code"])
    client.save()
    # Each user's subject identifier ("sub"), for tests that link one beforehand.
    print(json.dumps({u.email: str(u.pk) for u in User.objects.all()}))


if __name__ == "__main__":
    main()
