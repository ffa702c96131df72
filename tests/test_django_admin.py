"""The Django admin answers as Django's admin does on every model's paths, never 500."""

import pytest
from django.contrib import admin

pytestmark = pytest.mark.django_db

MODEL_PATHS = sorted(
    f"/django-admin/{model._meta.app_label}/{model._meta.model_name}/"
    for model in admin.site._registry
)


@pytest.fixture
def staff(signed_in_with_mfa):
    return signed_in_with_mfa(
        "admin.person@example.gov.uk", is_staff=True, is_superuser=True, full_name="Ada Min"
    )


@pytest.mark.parametrize("base", MODEL_PATHS)
def test_anonymous_is_sent_to_sign_in_on_every_model_path(client, base):
    for url in [f"{base}jsi18n/", base, f"{base}1/change/"]:
        response = client.get(url)

        assert response.status_code == 302, url
        assert response["Location"].startswith("/django-admin/login/"), url


def test_staff_open_every_model_list_and_its_jsi18n(client, staff):
    for base in MODEL_PATHS:
        assert client.get(base).status_code == 200, base
        # "jsi18n" is an object id to most model admins: Django sends staff back to the admin's
        # index ("doesn't exist"); the department tree serves its scripts' translations.
        response = client.get(f"{base}jsi18n/")
        assert response.status_code in (200, 302), base
    catalog = client.get("/django-admin/accounts/department/jsi18n/")
    assert catalog.status_code == 200
    assert "javascript" in catalog["Content-Type"]
    assert b"gettext" in catalog.content
