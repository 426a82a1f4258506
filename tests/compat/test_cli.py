"""The `quorum` command end to end: migrate, user create, and start on a fresh data directory."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.core
QUORUM = str(Path(sys.executable).parent / "quorum")


def quorum_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUORUM_")}
    return {**env, "QUORUM_DATA_DIR": str(data_dir), **extra}


def wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def test_user_create_prints_a_working_token_and_start_serves(tmp_path):
    env = quorum_env(tmp_path, QUORUM_ADMIN_EMAIL="boss@example.com")
    subprocess.run([QUORUM, "migrate"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [QUORUM, "user", "create", "--email", "ann@example.com", "--role", "annotator", "--password", "pw"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = created.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    port = free_port()
    server = subprocess.Popen(
        [QUORUM, "start", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        me = httpx.get(f"{url}/api/current-user", headers={"Authorization": f"Token {token}"})
        assert me.json()["email"] == "ann@example.com"
        assert httpx.get(f"{url}/user/login").status_code == 200
        assert httpx.get(f"{url}/docs").status_code == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    # the first admin was created with a generated password, printed once; the secret is kept, not defaulted
    assert "Created admin" not in output  # users existed already (the annotator), so no bootstrap
    assert "GET /api/current-user" not in output  # no access log unless asked for
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "quorum.sqlite3").exists()


def test_first_start_creates_the_admin_and_prints_the_password_once(tmp_path):
    env = quorum_env(
        tmp_path, QUORUM_ADMIN_EMAIL="boss@example.com", QUORUM_ADMIN_TOKEN="a" * 40, QUORUM_ACCESS_LOG="true"
    )
    port = free_port()
    server = subprocess.Popen(
        [QUORUM, "start", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert server.stdout is not None
        first_line = server.stdout.readline().decode()
        match = re.search(r"Created admin boss@example.com with password: (\S+)", first_line)
        assert match, first_line
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url)
        me = httpx.get(f"{url}/api/current-user/whoami", headers={"Authorization": f"Token {'a' * 40}"})
        assert me.json()["org_membership"][0]["role"] == "OW"
        with httpx.Client(base_url=url) as browser:
            form = browser.get("/user/login").text
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
            signed_in = browser.post(
                "/user/login",
                data={"email": "boss@example.com", "password": match.group(1), "csrfmiddlewaretoken": csrf},
            )
            assert signed_in.headers["location"] == "/projects"
            assert "<h1>Projects</h1>" in browser.get("/projects").text
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    assert '"GET /api/current-user/whoami HTTP/1.1" 200' in output  # the access log, asked for
