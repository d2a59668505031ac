"""Fixtures for running pysnc against a running itsm-sim (see run.sh).

sim_url, ca_path, control and the reset before every test come from ../conformance/sim_fixtures.py.
Every test starts from a freshly reset instance.
"""

import pytest
from pysnc import ServiceNowClient


@pytest.fixture
def client(sim_url, ca_path):
    return ServiceNowClient(sim_url, ("admin", "admin"), verify=ca_path)


def client_as(sim_url, ca_path, user, password=None):
    return ServiceNowClient(sim_url, (user, password or user), verify=ca_path)


def insert_incidents(client, rows):
    """Inserts incidents through pysnc; returns their sys_ids in order."""
    ids = []
    for fields in rows:
        gr = client.GlideRecord("incident")
        gr.initialize()
        for k, v in fields.items():
            setattr(gr, k, v)
        ids.append(str(gr.insert()))
    return ids
