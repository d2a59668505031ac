"""Fixtures every itsm-sim conformance suite shares (loaded by run-suite.sh with `-p sim_fixtures`).

ITSM_SIM_URL is the emulator's https base URL, ITSM_SIM_CA the CA certificate it generated.
Every test starts from a freshly reset emulator (seeded data of every vendor).
"""
import os

import pytest
import requests


@pytest.fixture(scope="session")
def sim_url():
    url = os.environ.get("ITSM_SIM_URL")
    if not url:
        pytest.fail("ITSM_SIM_URL is not set: run the suite through its run.sh")
    return url


@pytest.fixture(scope="session")
def ca_path():
    path = os.environ.get("ITSM_SIM_CA")
    if not path or not os.path.exists(path):
        pytest.fail("ITSM_SIM_CA does not name the emulator's CA certificate")
    return path


@pytest.fixture
def control(sim_url, ca_path):
    """A requests session for the emulator's control API (/_sim/...)."""
    session = requests.Session()
    session.verify = ca_path

    def call(method, path, **kwargs):
        r = session.request(method, sim_url + path, **kwargs)
        r.raise_for_status()
        return r.json() if r.content else None

    return call


@pytest.fixture(autouse=True)
def fresh_emulator(control):
    control("POST", "/_sim/reset")
    yield
