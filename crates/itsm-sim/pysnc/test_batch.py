"""The Batch API: pysnc's update_multiple/delete_multiple, plus the raw protocol with plain requests."""
import base64
import json

from conftest import insert_incidents


def test_update_multiple_and_delete_multiple(client):
    insert_incidents(client, [{"short_description": f"batch {i}", "impact": "3"} for i in range(6)])
    gr = client.GlideRecord("incident")
    gr.query()
    for r in gr:
        r.impact = "1"
    assert gr.update_multiple() is True
    check = client.GlideRecord("incident")
    check.add_query("impact", "1")
    check.query()
    assert check.get_row_count() == 6
    assert all(r.get_value("sys_mod_count") == "1" for r in check)
    gone = client.GlideRecord("incident")
    gone.add_query("short_description", "STARTSWITH", "batch")
    assert gone.delete_multiple() is True
    left = client.GlideRecord("incident")
    left.query()
    assert left.get_row_count() == 0


def test_raw_batch_protocol_and_unserviced_requests(sim_url, ca_path, client, control):
    control("PATCH", "/_sim/servicenow/settings", json={"batch_max_requests": 2})
    body = lambda d: base64.b64encode(json.dumps(d).encode()).decode()
    payload = {
        "batch_request_id": 7,
        "rest_requests": [
            {"id": "a", "method": "POST", "url": "/api/now/table/incident",
             "headers": [{"name": "Content-Type", "value": "application/json"}], "body": body({"short_description": "one"})},
            {"id": "b", "method": "GET", "url": "/api/now/table/incident?sysparm_limit=1", "headers": []},
            {"id": "c", "method": "POST", "url": "/api/now/table/incident",
             "headers": [{"name": "Content-Type", "value": "application/json"}], "body": body({"short_description": "three"})},
        ],
    }
    r = client.session.post(sim_url + "/api/now/v1/batch", json=payload)
    assert r.status_code == 200
    data = r.json()
    assert data["batch_request_id"] == "7"
    assert [s["id"] for s in data["serviced_requests"]] == ["a", "b"]
    assert data["unserviced_requests"] == ["c"]
    created, listed = data["serviced_requests"]
    assert created["status_code"] == 201
    assert json.loads(base64.b64decode(created["body"]))["result"]["number"] == "INC0010001"
    headers = {h["name"]: h["value"] for h in listed["headers"]}
    assert headers["X-Total-Count"] == "1"
