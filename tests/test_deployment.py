"""docker-compose.yml and the Dockerfile, checked by the real Compose binary (no engine)."""

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import compose
import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_BIN = Path(compose.__file__).parent / "docker-compose"
RECORDS_KEYS = "compose-check:" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def compose_config(tmp_path):
    """The fully resolved Compose model, as `docker compose config` prints it."""
    for name in ["docker-compose.yml", "Dockerfile"]:
        shutil.copy(ROOT / name, tmp_path / name)
    env_text = (ROOT / ".env.example").read_text()
    env_text = env_text.replace("DJANGO_SECRET_KEY=\n", "DJANGO_SECRET_KEY=compose-check\n")
    env_text = env_text.replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=compose-check\n")
    env_text = env_text.replace("AWARE_RECORDS_KEYS=\n", f"AWARE_RECORDS_KEYS={RECORDS_KEYS}\n")
    (tmp_path / ".env").write_text(env_text)
    result = subprocess.run(
        [str(COMPOSE_BIN), "-f", "docker-compose.yml", "config", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_CONFIG": str(tmp_path / ".docker")},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


APP_SERVICES = ["migrate", "web", "worker", "beat"]


def test_compose_names_every_service_with_its_command(compose_config):
    services = compose_config["services"]

    assert set(services) == {"migrate", "web", "worker", "beat", "db", "redis", "mail"}
    migrate = " ".join(services["migrate"]["command"])
    assert "manage.py migrate --no-input" in migrate
    assert "manage.py load_initial_data" in migrate
    assert services["migrate"]["restart"] == "no"  # a one-off: it runs, then stays stopped
    assert services["web"]["command"][:2] == ["gunicorn", "config.wsgi:application"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config.celery_app", "worker"]
    assert "django_celery_beat.schedulers:DatabaseScheduler" in services["beat"]["command"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert "mailpit" in services["mail"]["image"]


def test_compose_runs_two_web_and_two_worker_replicas_and_one_beat(compose_config):
    services = compose_config["services"]

    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ["migrate", "beat", "db", "redis", "mail"]:
        assert (services[name].get("deploy") or {}).get("replicas", 1) == 1, name
    # One host port per web replica (no two replicas can publish the same one).
    [port] = services["web"]["ports"]
    assert (port["target"], port["published"]) == (8000, "8000-8001")
    # Only the one-off service migrates: replicas starting together never race to.
    for name in ["web", "worker", "beat"]:
        assert "migrate" not in " ".join(services[name]["command"]), name


def test_every_replica_uses_the_one_database_and_the_one_redis(compose_config):
    services = compose_config["services"]

    assert [n for n, s in services.items() if s.get("image", "").startswith("postgres:")] == ["db"]
    assert [n for n, s in services.items() if s.get("image", "").startswith("redis:")] == ["redis"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DATABASE_URL"].split("@", 1)[1] == "db:5432/aware", name
        assert env["REDIS_URL"] == "redis://redis:6379/0", name
    assert "volumes" not in services["redis"]  # a broker and a cache: nothing to keep
    assert "pgdata" in [m["source"] for m in services["db"]["volumes"]]


def test_compose_has_health_checks_and_waits_for_them(compose_config):
    services = compose_config["services"]

    for name in ["web", "worker", "db", "redis", "mail"]:
        assert services[name]["healthcheck"]["test"], name
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    for name in ["web", "worker", "beat"]:
        migrated = services[name]["depends_on"]["migrate"]["condition"]
        assert migrated == "service_completed_successfully", name


def test_app_services_share_one_environment(compose_config):
    services = compose_config["services"]
    environments = [services[name]["environment"] for name in APP_SERVICES]

    assert all(env == environments[0] for env in environments)
    env = environments[0]
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert env["DATABASE_URL"].startswith("postgres://aware:compose-check@db:5432/")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["EMAIL_URL"] == "smtp://mail:1025"
    assert env["DJANGO_SECRET_KEY"] == "compose-check"


def compose_check(tmp_path, env_text: str) -> subprocess.CompletedProcess:
    """`docker compose config -q` with this .env and none of the records key in the shell."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text(env_text)
    return subprocess.run(
        [str(COMPOSE_BIN), "-f", "docker-compose.yml", "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("AWARE_RECORDS")},
            "DOCKER_CONFIG": str(tmp_path / ".docker"),
        },
    )


def test_compose_refuses_to_start_without_a_database_password(tmp_path):
    result = compose_check(tmp_path, f"DJANGO_SECRET_KEY=x\nAWARE_RECORDS_KEYS={RECORDS_KEYS}\n")

    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_compose_refuses_to_start_without_a_records_key(tmp_path):
    result = compose_check(tmp_path, "DJANGO_SECRET_KEY=x\nPOSTGRES_PASSWORD=x\n")

    assert result.returncode != 0
    assert "AWARE_RECORDS_KEYS" in result.stderr


def test_app_services_keep_the_checkpoints_on_a_volume(compose_config):
    for name in APP_SERVICES:
        mounts = compose_config["services"][name]["volumes"]
        assert {"type": "volume", "source": "checkpoints", "target": "/app/var/checkpoints"} in [
            {k: m[k] for k in ("type", "source", "target")} for m in mounts
        ], name


def test_the_image_build_loads_production_settings_with_its_throwaway_keys(tmp_path):
    """The Dockerfile's collectstatic step runs under production settings, which refuse to start
    without a secret key and a records key: run that step's own command, as the build does."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    [step] = [line for line in dockerfile.splitlines() if "collectstatic" in line and "RUN" in line]
    command = step.removeprefix("RUN").split("&&")[0]
    command = command.replace(
        "python manage.py collectstatic --no-input",
        f"{sys.executable} -c 'import django; django.setup()'",
    ).replace("$(python -c", f"$({sys.executable} -c")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWARE_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DATABASE_URL=f"sqlite:///{tmp_path / 'build.sqlite3'}",
    )

    result = subprocess.run(
        ["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_dockerfile_installs_the_locked_dependencies():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert "FROM python:3.11-slim-bookworm" in dockerfile
    assert "COPY requirements.lock" in dockerfile
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in dockerfile
    assert "npm ci" in dockerfile


def test_the_dev_lock_pins_every_runtime_package_at_the_same_version():
    def pins(name):
        lines = (ROOT / name).read_text().splitlines()
        return dict(
            line.split("==", 1) for line in lines if "==" in line and not line.startswith("#")
        )

    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")

    assert runtime
    assert {name: dev.get(name) for name in runtime} == runtime
