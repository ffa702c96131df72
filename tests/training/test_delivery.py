"""How learner pages travel (issue 17): HTML gzipped for browsers that ask, with Django's
BREACH padding."""

import gzip

import pytest

from tests.factories import lessons_of, module_with_lessons


@pytest.fixture
def lesson_url(site):
    return lessons_of(module_with_lessons(2))[0].url


def test_a_lesson_is_gzipped_when_the_browser_asks_and_plain_otherwise(
    client, lesson_url, user_factory
):
    client.force_login(user_factory(email="gzip.reader@example.gov.uk"))

    asked = client.get(lesson_url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert asked.status_code == 200
    assert asked["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in asked["Vary"]
    html = gzip.decompress(asked.content).decode()
    assert "Lesson 1" in html
    assert len(asked.content) < len(html.encode()) / 2
    # Django's BREACH mitigation: a random-length file name in the gzip header (FNAME flag).
    assert asked.content[3] & gzip.FNAME

    plain = client.get(lesson_url)
    assert not plain.has_header("Content-Encoding")
    assert "Lesson 1" in plain.content.decode()
