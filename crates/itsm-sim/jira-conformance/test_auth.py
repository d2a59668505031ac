"""Authentication, identity and visibility as Jira Cloud answers them."""
import pytest
import requests
from jira import JIRAError

from conftest import ADMIN, LOCKSTEP_ID, NOBODY, connect


def test_server_info_says_cloud(jira):
    info = jira.server_info()
    assert info["deploymentType"] == "Cloud"
    assert jira._is_cloud


def test_myself_carries_the_time_zone(jira, sim_url, ca_path):
    me = jira.myself()
    assert me["accountId"] == LOCKSTEP_ID
    assert me["timeZone"] == "America/New_York"
    priya = connect(sim_url, ca_path, basic_auth=("priya@example.com", "priya-token"))
    assert priya.myself()["timeZone"] == "Asia/Kolkata"


def test_wrong_api_token_is_401(sim_url, ca_path):
    with pytest.raises(JIRAError) as e:
        connect(sim_url, ca_path, basic_auth=("lockstep@example.com", "wrong")).myself()
    assert e.value.status_code == 401


def test_personal_access_token_is_a_bearer(sim_url, ca_path):
    pat = connect(sim_url, ca_path, token_auth="lockstep-pat")
    assert pat.myself()["accountId"] == LOCKSTEP_ID
    with pytest.raises(JIRAError) as e:
        connect(sim_url, ca_path, token_auth="not-a-pat").myself()
    assert e.value.status_code == 401


def test_an_issue_the_caller_may_not_see_is_404_not_403(sim_url, ca_path, jira):
    admin = connect(sim_url, ca_path, basic_auth=ADMIN)
    assert admin.issue("HR-1").fields.summary.startswith("Confidential")
    for client in (jira, connect(sim_url, ca_path, basic_auth=NOBODY)):
        with pytest.raises(JIRAError) as e:
            client.issue("HR-1")
        assert e.value.status_code == 404
        assert "does not exist or you do not have permission" in e.value.text
    with pytest.raises(JIRAError) as e:
        jira.issue("HR-999")
    assert e.value.status_code == 404


def test_oauth_3lo_refresh_tokens_rotate(sim_url, ca_path, control):
    code = control("POST", "/_sim/jira/oauth/codes", json={
        "client_id": "lockstep-jira", "account_id": LOCKSTEP_ID,
        "scopes": ["read:jira-work", "write:jira-work", "offline_access"]})["code"]
    s = requests.Session()
    s.verify = ca_path
    app = {"client_id": "lockstep-jira", "client_secret": "lockstep-jira-secret"}
    first = s.post(sim_url + "/oauth/token", json={**app, "grant_type": "authorization_code",
                                                   "code": code, "redirect_uri": "https://x"}).json()
    assert first["token_type"] == "Bearer" and "refresh_token" in first
    bearer = connect(sim_url, ca_path, token_auth=first["access_token"])
    assert bearer.myself()["accountId"] == LOCKSTEP_ID
    second = s.post(sim_url + "/oauth/token", json={**app, "grant_type": "refresh_token",
                                                    "refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    replay = s.post(sim_url + "/oauth/token", json={**app, "grant_type": "refresh_token",
                                                    "refresh_token": first["refresh_token"]})
    assert replay.status_code == 403
    assert replay.json()["error"] in ("invalid_grant", "unauthorized_client")


def test_users_by_account_id(jira):
    u = jira.user("712020:00000000-0000-4000-8000-000000000003")
    assert u.displayName == "Priya Patel"
    assert u.timeZone == "Asia/Kolkata"
