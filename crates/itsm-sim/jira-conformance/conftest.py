"""Fixtures for running the pycontribs `jira` client against a running itsm-sim (see run.sh).

ITSM_SIM_URL is the emulator's https base URL, ITSM_SIM_CA the CA certificate it generated.
Every test starts from a freshly reset site (seeded users, projects SEC/OPS/HR, workflows).
"""
import os

import pytest
import requests
from jira import JIRA

LOCKSTEP = ("lockstep@example.com", "lockstep-token")
ADMIN = ("admin@example.com", "admin-token")
NOBODY = ("nobody@example.com", "nobody-token")
LOCKSTEP_ID = "712020:00000000-0000-4000-8000-000000000002"
ADMIN_ID = "712020:00000000-0000-4000-8000-000000000001"


@pytest.fixture(scope="session")
def sim_url():
    url = os.environ.get("ITSM_SIM_URL")
    if not url:
        pytest.fail("ITSM_SIM_URL is not set: run crates/itsm-sim/jira-conformance/run.sh")
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
def fresh_site(control):
    control("POST", "/_sim/reset")
    yield


def connect(sim_url, ca_path, version="2", **auth):
    """A client as pycontribs users build one; retries off so errors surface at once."""
    if not auth:
        auth = {"basic_auth": LOCKSTEP}
    return JIRA(
        server=sim_url,
        options={"verify": ca_path, "rest_api_version": version},
        max_retries=0,
        **auth,
    )


@pytest.fixture
def jira(sim_url, ca_path):
    return connect(sim_url, ca_path)


@pytest.fixture
def jira3(sim_url, ca_path):
    return connect(sim_url, ca_path, version="3")


def sec_bug(summary, **extra):
    """Fields of a valid SEC bug (the project requires 'Affected asset')."""
    fields = {
        "project": {"key": "SEC"},
        "issuetype": {"name": "Bug"},
        "summary": summary,
        "customfield_10050": "host-17",
    }
    fields.update(extra)
    return fields


def adf(text):
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }
