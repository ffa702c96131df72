"""Uploaded lesson images are served (DEBUG or not); nothing else under MEDIA_ROOT is."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    for folder, name in [("images", "door.width-800.png"), ("exports", "overdue.csv")]:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / name).write_bytes(b"\x89PNG not really")
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "policy.pdf").write_bytes(b"%PDF-1.4")
    return tmp_path


def test_an_image_rendition_is_served_without_debug(client, media_root, settings):
    assert settings.DEBUG is False

    response = client.get("/media/images/door.width-800.png")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG not really"


@pytest.mark.parametrize(
    "url",
    [
        "/media/exports/overdue.csv",  # HR's exports: only through their owner's link
        "/media/documents/policy.pdf",  # documents: only through Wagtail's privacy checks
        "/media/images/../exports/overdue.csv",
        "/media/images/%2e%2e/exports/overdue.csv",
        "/media/images/missing.png",
    ],
)
def test_nothing_else_under_media_is_served(client, media_root, url):
    client.raise_request_exception = False  # a path out of images/ is refused as suspicious

    response = client.get(url)

    assert response.status_code in (400, 404)
    assert b"overdue" not in response.content
