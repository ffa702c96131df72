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


PUBLIC_ADDRESS = "203.0.113.7"  # a documentation address: any machine but this one


def test_healthz_tells_the_public_only_the_status(client, db, dead_broker):
    response = client.get("/healthz", REMOTE_ADDR=PUBLIC_ADDRESS)

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert b"Error" not in response.content
    assert b"127.0.0.1" not in response.content


def test_healthz_tells_the_public_ok_when_all_answer(client, db):
    response = client.get("/healthz", REMOTE_ADDR=PUBLIC_ADDRESS)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_shows_staff_which_check_failed_and_why(client, user_factory, dead_broker):
    client.force_login(user_factory(email="ops.person@example.gov.uk", is_staff=True))

    response = client.get("/healthz", REMOTE_ADDR=PUBLIC_ADDRESS)

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == {"ok": True, "detail": "ok"}
    assert body["broker"]["ok"] is False
    assert "Error" in body["broker"]["detail"]


def test_healthz_shows_a_signed_in_learner_only_the_status(client, user_factory, dead_broker):
    client.force_login(user_factory(email="learner.person@example.gov.uk"))

    response = client.get("/healthz", REMOTE_ADDR=PUBLIC_ADDRESS)

    assert response.json() == {"status": "unavailable"}


def test_healthz_shows_details_to_this_machine_over_ipv6(client, db, dead_broker):
    body = client.get("/healthz", REMOTE_ADDR="::1").json()

    assert body["broker"]["ok"] is False


def test_healthz_is_degraded_while_an_operational_alert_is_open(client, db):
    from cms.services import operational_alert_clear, operational_alert_open

    assert operational_alert_open(kind="sweep-failed", detail="The sweep stopped.") is True
    assert operational_alert_open(kind="sweep-failed", detail="It stopped again.") is False

    response = client.get("/healthz")

    assert response.status_code == 200  # up: the site serves, a background job needs someone
    body = response.json()
    assert body["status"] == "degraded"
    assert [(a["kind"], a["detail"]) for a in body["alerts"]] == [
        ("sweep-failed", "It stopped again.")
    ]
    public = client.get("/healthz", REMOTE_ADDR=PUBLIC_ADDRESS)
    assert public.json() == {"status": "degraded"}

    assert operational_alert_clear(kind="sweep-failed") is True

    assert client.get("/healthz").json()["status"] == "ok"


def test_healthz_is_unavailable_not_degraded_when_the_broker_is_down(client, db, dead_broker):
    from cms.services import operational_alert_open

    operational_alert_open(kind="email-failing", detail="5 emails failed.")

    response = client.get("/healthz", REMOTE_ADDR=PUBLIC_ADDRESS)

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
