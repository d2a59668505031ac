"""Reference B1: base URLs and the two auth styles."""
import requests

from conftest import (
    ACCEPT, CLOUD, EXPIRED_KEY, LOCKSTEP_KEY, ONPREM, Sdp, cloud_token, error_codes,
)


def test_onprem_authtoken_on_both_base_paths(sim_url, ca_path):
    for base in (f"{sim_url}/api/v3", f"{sim_url}/app/{ONPREM}/api/v3"):
        sdp = Sdp(base, ca_path, {"authtoken": LOCKSTEP_KEY})
        r = sdp.get("requests", {"list_info": {"row_count": 10}})
        assert r.status_code == 200, r.text
        assert r.json()["response_status"][0]["status_code"] == 2000


def test_bad_missing_and_expired_keys_are_4022_with_http_401(sim_url, ca_path):
    for headers in ({"authtoken": "not-a-key"}, {}, {"authtoken": EXPIRED_KEY}):
        sdp = Sdp(f"{sim_url}/api/v3", ca_path, headers)
        r = sdp.get("requests")
        assert r.status_code == 401, r.text
        assert error_codes(r) == [4022]


def test_cloud_refresh_grant_gives_an_expiring_access_token(sim_url, ca_path):
    body = cloud_token(sim_url, ca_path)
    assert body["access_token"]
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    for scheme in ("Zoho-oauthtoken", "Bearer"):
        sdp = Sdp(
            f"{sim_url}/app/{CLOUD}/api/v3",
            ca_path,
            {"Authorization": f"{scheme} {body['access_token']}"},
        )
        r = sdp.get("requests")
        assert r.status_code == 200, r.text


def test_refresh_grant_with_a_wrong_secret_is_refused(sim_url, ca_path):
    r = requests.post(
        f"{sim_url}/oauth/v2/token",
        data={"grant_type": "refresh_token", "client_id": "1000.LOCKSTEPSDP",
              "client_secret": "wrong", "refresh_token": "1000.refresh.lockstep"},
        verify=ca_path,
    )
    assert "access_token" not in r.json()
    assert "error" in r.json()


def test_an_onprem_key_does_not_open_a_cloud_portal(sim_url, ca_path):
    sdp = Sdp(f"{sim_url}/app/{CLOUD}/api/v3", ca_path, {"authtoken": LOCKSTEP_KEY})
    r = sdp.get("requests")
    assert r.status_code == 401
    assert error_codes(r) == [4022]


def test_the_v3_accept_header_is_required(sim_url, ca_path):
    r = requests.get(
        f"{sim_url}/api/v3/requests", headers={"authtoken": LOCKSTEP_KEY}, verify=ca_path
    )
    assert r.status_code != 200
    assert r.json()["response_status"]["status_code"] == 4000
    ok = requests.get(
        f"{sim_url}/api/v3/requests",
        headers={"authtoken": LOCKSTEP_KEY, "Accept": ACCEPT},
        verify=ca_path,
    )
    assert ok.status_code == 200
