"""Settings come from the environment; production values pass the deploy checks; bad ones fail
at start-up with a message that says what to set."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "studio.example.com",
    "DATABASE_URL": "postgres://studio:pw@db.internal:5432/mediastudio",
    "REDIS_URL": "redis://redis.internal:6379/0",
}


def manage(*args, env):
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_values_pass_the_deploy_checks_with_nothing_silenced():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize(
    "env,expected",
    [
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({**PRODUCTION, "SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({**PRODUCTION, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must list"),
        ({"DATABASE_URL": "nonsense://"}, "DATABASE_URL is not a valid database URL"),
        ({"JOB_LEASE_SECONDS": "soon"}, "JOB_LEASE_SECONDS must be an integer"),
        ({"Q_TIMEOUT": "600", "Q_RETRY": "300"}, "Q_CLUSTER['retry'] must be larger"),
        ({"RUNWAY_ENABLED": "true"}, "RUNWAY_ENABLED is true but RUNWAY_API_KEY is not set"),
        ({**PRODUCTION, "SAFE_FETCH_ALLOW_LOOPBACK": "true"}, "SAFE_FETCH_ALLOW_LOOPBACK is for local fake providers only"),
        ({"DIFFUSERS_STEPS": "many"}, "DIFFUSERS_STEPS must be an integer"),
        ({"DIFFUSERS_GUIDANCE": "high"}, "DIFFUSERS_GUIDANCE must be a number"),
        ({"DIFFUSERS_FRAME_SIZE": "480p"}, "DIFFUSERS_FRAME_SIZE must be WIDTHxHEIGHT"),
        ({"DIFFUSERS_DTYPE": "fp8"}, "DIFFUSERS_DTYPE must be float16, bfloat16 or float32"),
        ({"RENDER_EMOJI_FONT": "/no/such/Emoji.ttf"}, "RENDER_EMOJI_FONT must be auto, none or a font file"),
    ],
)
def test_bad_configuration_fails_at_start_up_saying_what_to_set(env, expected):
    result = manage("check", env=env)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr


def test_a_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "key"
    secret_file.write_text(PRODUCTION["SECRET_KEY"] + "\n")
    env = {**PRODUCTION, "SECRET_KEY": "", "SECRET_KEY_FILE": str(secret_file)}
    assert manage("check", "--deploy", "--fail-level", "WARNING", env=env).returncode == 0


def test_the_compose_file_describes_the_production_topology():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"web", "worker", "gpu-worker", "postgres", "redis", "minio"} <= set(services)
    assert services["gpu-worker"]["profiles"] == ["gpu"]
    assert services["gpu-worker"]["environment"]["Q_CLUSTER_NAME"] == "gpu"
    # The GPU worker's own variables must not drop the shared ones (a YAML merge is shallow).
    assert services["gpu-worker"]["environment"]["DATABASE_URL"] == services["web"]["environment"]["DATABASE_URL"]
    # Its image alone has torch; the render jobs' folders are one volume that every app container
    # mounts (a job is rendered by one worker, polled by another and canceled from the web).
    assert services["gpu-worker"]["build"]["args"] == {"EXTRAS": "gpu"}
    for name in ("web", "worker", "gpu-worker"):
        assert "jobs:/srv/jobs" in services[name]["volumes"], name
        environment = services[name]["environment"]
        assert (environment["ANIMATIC_WORK_DIR"], environment["DIFFUSERS_WORK_DIR"]) == ("/srv/jobs/animatic", "/srv/jobs/diffusers")
    assert "jobs" in compose["volumes"]
    assert "qcluster" in services["worker"]["command"]


def test_the_dockerfile_runs_as_a_non_root_user_with_ffmpeg_and_espeak():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER studio" in dockerfile
    assert "ffmpeg" in dockerfile and "espeak-ng" in dockerfile
    assert "fonts-noto-color-emoji" in dockerfile  # the captions' colour emoji (RENDER_EMOJI_FONT=auto)
    assert 'pip install ".${EXTRAS:+[$EXTRAS]}"' in dockerfile  # EXTRAS=gpu: the GPU worker's image
