"""How learner pages travel (issue 17): HTML gzipped for browsers that ask, with Django's
BREACH padding, and a favicon that WhiteNoise serves before Django sees the request."""

import gzip

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


@pytest.mark.django_db
def test_the_favicon_is_a_static_file_linked_from_every_page(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] in {"image/x-icon", "image/vnd.microsoft.icon"}
    icon = b"".join(response.streaming_content)
    assert icon[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert ctx.captured_queries == []  # WhiteNoise answered: no session, no user, no page

    home = client.get("/accounts/login/").content.decode()
    assert '<link rel="icon" href="/favicon.ico"' in home
    assert 'href="/static/cms/favicon.svg" type="image/svg+xml"' in home
