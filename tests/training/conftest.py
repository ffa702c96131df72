import pytest

from tests.factories import module_with_lessons


@pytest.fixture
def module(site):
    return module_with_lessons(3)


@pytest.fixture
def learner(user_factory):
    return user_factory(email="learner@example.gov.uk", full_name="Alex Morgan")


@pytest.fixture
def learner_client(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def signed_in(signed_in_with_mfa):
    """Sign in as a report reader in the given groups (with MFA set up, as the admin demands)."""

    def sign_in(*groups, email="someone@example.gov.uk", **fields):
        return signed_in_with_mfa(email, groups=groups, full_name="Report Reader", **fields)

    return sign_in
