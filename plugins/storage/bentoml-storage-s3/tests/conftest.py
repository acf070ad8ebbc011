"""One moto S3 server for the session; every test gets a fresh bucket of its own.

The server's address reaches the backend the way a user's would: the standard
AWS variables, set in this process's environment for the session.
"""
from __future__ import annotations

import itertools
import os

import pytest

from bentoml_storage_s3.testing import AWS_VARIABLES, MotoServer

_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def moto(tmp_path_factory):
    """The session's moto server, its AWS variables in ``os.environ`` meanwhile."""
    server = MotoServer(log_path=str(tmp_path_factory.mktemp("moto") / "moto.log"))
    with pytest.MonkeyPatch.context() as patch:
        for var in AWS_VARIABLES:
            patch.delenv(var, raising=False)
        for var, value in server.env().items():
            patch.setenv(var, value)
        yield server
    server.stop()


@pytest.fixture
def bucket(moto):
    """A new, empty bucket on the session's server."""
    name = f"bentoml-test-{os.getpid()}-{next(_buckets)}"
    moto.create_bucket(name)
    return name
