"""Fixtures for running pysnc against a running itsm-sim (see run.sh).

ITSM_SIM_URL is the emulator's https base URL, ITSM_SIM_CA the CA certificate it generated.
Every test starts from a freshly reset instance.
"""
import os

import pytest
import requests
from pysnc import ServiceNowClient


@pytest.fixture(scope="session")
def sim_url():
    url = os.environ.get("ITSM_SIM_URL")
    if not url:
        pytest.fail("ITSM_SIM_URL is not set: run crates/itsm-sim/pysnc/run.sh")
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
def fresh_instance(control):
    control("POST", "/_sim/reset")
    yield


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
