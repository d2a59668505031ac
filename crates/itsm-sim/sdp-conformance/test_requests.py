"""Reference B3/B4/B5: create, read, update, trash, close, resolutions, notes, links, lookups,
UDFs and templates; the time and status object shapes; Cloud ids."""
from conftest import SECURITY_TEMPLATE, VIEWER_KEY, Sdp, error_codes


def is_time(v):
    return isinstance(v["value"], str) and v["value"].isdigit() and v["display_value"]


def test_create_with_only_a_subject_and_read_it_back(onprem):
    req = onprem.create(subject="CVE-2024-1234 in openssl on host-17")
    assert isinstance(req["id"], str)
    assert req["status"]["name"] == "Open"
    assert req["status"]["in_progress"] is True and req["status"]["stop_timer"] is False
    assert is_time(req["created_time"]) and is_time(req["last_updated_time"])
    assert req["resolved_time"] is None
    r = onprem.get(f"requests/{req['id']}")
    assert r.status_code == 200
    body = r.json()
    assert isinstance(body["response_status"], dict)
    assert body["response_status"]["status_code"] == 2000
    assert body["request"]["subject"] == "CVE-2024-1234 in openssl on host-17"


def test_cloud_ids_are_18_digits_with_a_separate_display_id(cloud):
    req = cloud.create(subject="finding on cloud")
    assert len(req["id"]) == 18 and req["id"].isdigit()
    assert req["display_id"] != req["id"]


def test_lookups_by_name_or_id_and_technician_by_email(onprem):
    high = onprem.create(subject="a", priority={"name": "High"})["priority"]
    req = onprem.create(
        subject="lookups",
        priority={"id": high["id"]},
        urgency={"name": "High"},
        impact={"name": "Affects Group"},
        category={"name": "Security"},
        group={"name": "Network"},
        request_type={"name": "Incident"},
        technician={"email_id": "ravi@itdesk.example.com"},
        due_by_time={"value": "1767225600000"},
    )
    assert req["priority"]["name"] == "High"
    assert req["impact"]["name"] == "Affects Group"
    assert req["group"]["name"] == "Network"
    assert req["request_type"]["name"] == "Incident"
    assert req["technician"]["email_id"] == "ravi@itdesk.example.com"
    assert req["due_by_time"]["value"] == "1767225600000"


def test_an_unknown_lookup_name_is_4001_naming_the_field(onprem):
    r = onprem.post("requests", {"request": {"subject": "x", "priority": {"name": "Urgentest"}}})
    assert r.status_code == 400
    assert error_codes(r) == [4001]
    assert r.json()["response_status"]["messages"][0]["field"] == "priority"


def test_missing_subject_is_4012_with_fields(onprem):
    r = onprem.post("requests", {"request": {"description": "no subject"}})
    assert r.status_code == 400
    assert error_codes(r) == [4012]
    assert "subject" in r.json()["response_status"]["messages"][0]["fields"]


def test_template_mandatory_udfs_and_metainfo(onprem):
    meta = onprem.get("requests/_metainfo").json()
    udfs = meta["metainfo"]["fields"]["udf_fields"]["fields"]
    assert "udf_sline_301" in udfs and "udf_long_302" in udfs
    r = onprem.post(
        "requests", {"request": {"subject": "x", "template": {"name": SECURITY_TEMPLATE}}}
    )
    assert r.status_code == 400
    assert error_codes(r) == [4012]
    fields = r.json()["response_status"]["messages"][0]["fields"]
    assert {"udf_sline_301", "udf_long_302", "impact"} <= set(fields)
    req = onprem.create(
        subject="complete",
        template={"name": SECURITY_TEMPLATE},
        impact={"name": "Affects Business"},
        udf_fields={"udf_sline_301": "finding-1234", "udf_long_302": 7},
    )
    assert req["udf_fields"]["udf_sline_301"] == "finding-1234"
    assert req["template"]["name"] == SECURITY_TEMPLATE


def test_input_data_in_the_query_string_on_post_and_put(onprem):
    r = onprem.post("requests", {"request": {"subject": "via query"}}, in_query=True)
    assert r.status_code in (200, 201), r.text
    rid = r.json()["request"]["id"]
    r = onprem.put(f"requests/{rid}", {"request": {"subject": "renamed"}}, in_query=True)
    assert r.json()["request"]["subject"] == "renamed"


def test_status_objects_through_the_lifecycle(onprem):
    rid = onprem.create(subject="lifecycle")["id"]
    held = onprem.put(f"requests/{rid}", {"request": {"status": {"name": "On Hold"}}}).json()
    s = held["request"]["status"]
    assert (s["internal_name"], s["in_progress"], s["stop_timer"]) == ("Onhold", True, True)
    done = onprem.put(
        f"requests/{rid}",
        {"request": {"status": {"name": "Resolved"}, "update_reason": "fixed upstream"}},
    ).json()["request"]
    assert done["status"]["in_progress"] is False
    assert is_time(done["resolved_time"])
    assert int(done["last_updated_time"]["value"]) > int(held["request"]["last_updated_time"]["value"])


def test_close_with_closure_info(onprem):
    rid = onprem.create(subject="to close")["id"]
    r = onprem.put(
        f"requests/{rid}/_close",
        {"request": {"closure_info": {"closure_code": {"name": "Success"},
                                      "closure_comments": "fixed by patch",
                                      "requester_ack_resolution": False,
                                      "requester_ack_comments": ""}}},
    )
    assert r.status_code == 200 and r.json()["response_status"]["status_code"] == 2000
    req = onprem.get(f"requests/{rid}").json()["request"]
    assert req["status"]["name"] == "Closed"
    assert req["closure_info"]["closure_code"]["name"] == "Success"
    assert req["closure_info"]["closure_comments"] == "fixed by patch"
    assert is_time(req["completed_time"])


def test_resolutions_notes_and_links(onprem):
    a = onprem.create(subject="a")["id"]
    b = onprem.create(subject="b")["id"]
    r = onprem.post(f"requests/{a}/resolutions",
                    {"resolution": {"content": "patched", "add_to_linked_requests": "false"}})
    assert r.status_code == 200, r.text
    assert onprem.get(f"requests/{a}/resolutions").json()["resolution"]["content"] == "patched"
    r = onprem.post(f"requests/{a}/notes", {"note": {"description": "seen by lockstep"}})
    assert r.status_code == 200, r.text
    r = onprem.post(f"requests/{a}/link_requests",
                    {"link_requests": [{"linked_request": {"id": b}, "comments": "same CVE"}]})
    assert r.status_code == 200, r.text
    links = onprem.get(f"requests/{a}/link_requests").json()["link_requests"]
    assert [l["linked_request"]["id"] for l in links] == [b]
    onprem.delete(f"requests/{a}/link_requests",
                  {"link_requests": [{"linked_request": {"id": b}}]})
    assert onprem.get(f"requests/{a}/link_requests").json()["link_requests"] == []


def test_delete_moves_to_trash_and_lists_leave_it_out(onprem):
    rid = onprem.create(subject="trash me")["id"]
    r = onprem.delete(f"requests/{rid}")
    assert r.json()["response_status"]["status_code"] == 2000
    ids = [x["id"] for x in onprem.get("requests", {"list_info": {"row_count": 100}}).json()["requests"]]
    assert rid not in ids


def test_unknown_request_is_4007_with_http_404(onprem):
    r = onprem.get("requests/999999")
    assert r.status_code == 404
    assert error_codes(r) == [4007]


def test_a_technician_without_write_permission_gets_4002(sim_url, ca_path):
    viewer = Sdp(f"{sim_url}/api/v3", ca_path, {"authtoken": VIEWER_KEY})
    r = viewer.post("requests", {"request": {"subject": "not allowed"}})
    assert r.status_code == 403
    assert error_codes(r) == [4002]
