"""One moto server (a real HTTP endpoint on loopback) for the whole AWS test session.

kunren is pointed at it the way a user would point it at any endpoint: ``AWS_ENDPOINT_URL``
and credentials in the environment, set per test. The server is warmed up once (moto's first
EC2 call in a region costs a second or two) and stopped at the end. Tests never reset moto:
each one makes its own resources under a unique name, so they cannot see each other's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aws.helpers import REGION, client


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        with pytest.MonkeyPatch.context() as patch:
            _point_at(patch, url, Path("/nonexistent-kunren-aws"))
            client("ec2").describe_instances()  # warm-up: moto builds its EC2 region here
        yield url
    finally:
        server.stop()


def _point_at(patch: pytest.MonkeyPatch, url: str, config_dir: Path) -> None:
    patch.setenv("AWS_ENDPOINT_URL", url)
    patch.setenv("AWS_ACCESS_KEY_ID", "testing")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    patch.setenv("AWS_DEFAULT_REGION", REGION)
    patch.setenv("AWS_MAX_ATTEMPTS", "1")  # an error should fail the test, not be retried
    # Never read the developer's own ~/.aws files.
    patch.setenv("AWS_CONFIG_FILE", str(config_dir / "config"))
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config_dir / "credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        patch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def aws_env(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    _point_at(monkeypatch, moto_url, tmp_path / "aws")
    return moto_url


@pytest.fixture
def unique() -> str:
    """A fresh name part, so each test's resources are its own."""
    return uuid.uuid4().hex[:10]
