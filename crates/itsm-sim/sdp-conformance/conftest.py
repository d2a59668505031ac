"""Fixtures for the ServiceDesk Plus v3 conformance suite (see run.sh).

Written from shared/reference/jira-sdp-api.md Part B, not from the emulator's code: the wire format
(`input_data` form field or query parameter, the v3 Accept header, `authtoken` on premises,
`Zoho-oauthtoken` on Cloud), the envelopes and the status codes are the vendor's. Only the seeded
names below (portals, keys, OAuth client) are the emulator's, as documented in its README.

sim_url, ca_path, control and the reset before every test come from ../conformance/sim_fixtures.py.
Every test starts from a freshly reset instance.
"""
import json

import pytest
import requests

ACCEPT = "application/vnd.manageengine.sdp.v3+json"
ONPREM = "itdesk"
CLOUD = "secops"
LOCKSTEP_KEY = "A1B2C3D4-0000-4000-8000-0000000LOCK"
VIEWER_KEY = "A1B2C3D4-0000-4000-8000-0000000VIEW"
EXPIRED_KEY = "A1B2C3D4-0000-4000-8000-0000000EXPD"
CLIENT_ID = "1000.LOCKSTEPSDP"
CLIENT_SECRET = "lockstep-sdp-secret"
REFRESH_TOKEN = "1000.refresh.lockstep"
SECURITY_TEMPLATE = "Security Finding"


class Sdp:
    """A v3 client as the vendor documents the calls: form-encoded input_data on writes,
    input_data as a query parameter on GET, the v3 Accept header, one auth header."""

    def __init__(self, base, ca_path, auth_headers):
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.verify = ca_path
        self.session.headers.update({"Accept": ACCEPT, **auth_headers})

    def call(self, method, path, data=None, in_query=False):
        url = f"{self.base}/{path.lstrip('/')}"
        kwargs = {}
        if data is not None:
            encoded = json.dumps(data)
            if method == "GET" or in_query:
                kwargs["params"] = {"input_data": encoded}
            else:
                kwargs["data"] = {"input_data": encoded}
        return self.session.request(method, url, **kwargs)

    def get(self, path, data=None):
        return self.call("GET", path, data)

    def post(self, path, data=None, **kw):
        return self.call("POST", path, data, **kw)

    def put(self, path, data=None, **kw):
        return self.call("PUT", path, data, **kw)

    def delete(self, path, data=None):
        return self.call("DELETE", path, data)

    def create(self, **fields):
        r = self.post("requests", {"request": fields})
        assert r.status_code in (200, 201), r.text
        assert r.json()["response_status"]["status_code"] == 2000, r.text
        return r.json()["request"]


def cloud_token(sim_url, ca_path, refresh=REFRESH_TOKEN):
    r = requests.post(
        f"{sim_url}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": refresh,
        },
        verify=ca_path,
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def onprem(sim_url, ca_path):
    return Sdp(f"{sim_url}/app/{ONPREM}/api/v3", ca_path, {"authtoken": LOCKSTEP_KEY})


@pytest.fixture
def cloud(sim_url, ca_path):
    token = cloud_token(sim_url, ca_path)["access_token"]
    return Sdp(
        f"{sim_url}/app/{CLOUD}/api/v3", ca_path, {"Authorization": f"Zoho-oauthtoken {token}"}
    )


def error_codes(r):
    """The specific codes of an SDP error envelope (outer status_code is 4000)."""
    status = r.json()["response_status"]
    assert status["status_code"] == 4000, r.text
    assert status["status"] == "failed"
    return [m["status_code"] for m in status["messages"]]
