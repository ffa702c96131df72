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
