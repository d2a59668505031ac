"""Fixtures for running the pycontribs `jira` client against a running itsm-sim (see run.sh).

sim_url, ca_path, control and the reset before every test come from ../conformance/sim_fixtures.py.
Every test starts from a freshly reset site (seeded users, projects SEC/OPS/HR, workflows).
"""

import pytest
from jira import JIRA

LOCKSTEP = ("lockstep@example.com", "lockstep-token")
ADMIN = ("admin@example.com", "admin-token")
NOBODY = ("nobody@example.com", "nobody-token")
LOCKSTEP_ID = "712020:00000000-0000-4000-8000-000000000002"
ADMIN_ID = "712020:00000000-0000-4000-8000-000000000001"


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
