"""GET /healthz reports whether the database and the broker answer."""


def test_healthz_is_ok_when_database_and_broker_answer(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_503_with_a_reason_when_the_broker_is_down(client, db, dead_broker):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert "Error" in body["broker"]["detail"]


def test_healthz_shows_when_a_worker_last_ran(client, db):
    from cms.services import heartbeat_record

    heartbeat = heartbeat_record(name="worker")

    body = client.get("/healthz").json()

    assert body["worker_last_seen"] == heartbeat.seen_at.isoformat()


def test_healthz_accepts_only_get(client, db):
    assert client.post("/healthz").status_code == 405
