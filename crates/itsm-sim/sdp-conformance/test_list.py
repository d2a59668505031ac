"""Reference B4: list_info, search_criteria, the reduced field set and the response_status quirk."""
from conftest import error_codes


def seed(onprem, n):
    return [onprem.create(subject=f"finding {i}", priority={"name": "High" if i % 2 else "Low"})
            for i in range(n)]


def test_list_has_array_response_status_and_paging(onprem):
    seed(onprem, 5)
    body = onprem.get("requests", {"list_info": {"row_count": 2, "start_index": 1,
                                                 "get_total_count": True}}).json()
    assert isinstance(body["response_status"], list)
    assert body["response_status"][0]["status_code"] == 2000
    assert body["list_info"]["has_more_rows"] is True
    assert body["list_info"]["total_count"] == 5
    assert len(body["requests"]) == 2
    last = onprem.get("requests", {"list_info": {"row_count": 2, "start_index": 5}}).json()
    assert len(last["requests"]) == 1 and last["list_info"]["has_more_rows"] is False


def test_row_count_beyond_100_is_refused(onprem):
    r = onprem.get("requests", {"list_info": {"row_count": 101}})
    assert r.json()["response_status"]["status_code"] == 4000
    assert error_codes(r)[0] == 4001


def test_lists_carry_a_reduced_field_set(onprem):
    onprem.create(subject="full", description="<b>details</b>")
    item = onprem.get("requests", {"list_info": {"row_count": 10}}).json()["requests"][0]
    assert "description" not in item and "udf_fields" not in item
    full = onprem.get(f"requests/{item['id']}").json()["request"]
    assert full["description"] == "<b>details</b>"


def test_poller_recipe_last_updated_after_watermark_sorted_ascending(onprem):
    made = seed(onprem, 4)
    watermark = made[1]["last_updated_time"]["value"]
    onprem.put(f"requests/{made[0]['id']}", {"request": {"subject": "touched"}})
    body = onprem.get("requests", {"list_info": {
        "row_count": 100, "sort_field": "last_updated_time", "sort_order": "asc",
        "search_criteria": [{"field": "last_updated_time", "condition": "greater than",
                             "value": watermark}]}}).json()
    ids = [r["id"] for r in body["requests"]]
    assert ids == [made[2]["id"], made[3]["id"], made[0]["id"]]
    stamps = [int(r["last_updated_time"]["value"]) for r in body["requests"]]
    assert stamps == sorted(stamps)


def test_conditions_values_and_children(onprem):
    made = seed(onprem, 4)
    onprem.put(f"requests/{made[0]['id']}", {"request": {"status": {"name": "On Hold"}}})
    crit = [{"field": "status.name", "condition": "is", "values": ["Open", "On Hold"]},
            {"field": "priority.name", "condition": "is", "value": "High",
             "logical_operator": "AND",
             "children": [{"field": "subject", "condition": "ends with", "value": "0",
                           "logical_operator": "OR"}]}]
    body = onprem.get("requests", {"list_info": {"row_count": 100, "search_criteria": crit}}).json()
    assert {r["subject"] for r in body["requests"]} == {"finding 0", "finding 1", "finding 3"}
    lo, hi = made[1]["created_time"]["value"], made[2]["created_time"]["value"]
    between = onprem.get("requests", {"list_info": {"row_count": 100, "search_criteria": [
        {"field": "created_time", "condition": "between", "values": [lo, hi]}]}}).json()
    assert [r["subject"] for r in between["requests"]] == ["finding 1", "finding 2"]
    contains = onprem.get("requests", {"list_info": {"row_count": 100, "search_criteria": [
        {"field": "subject", "condition": "not contains", "value": "finding"}]}}).json()
    assert contains["requests"] == []


def test_sort_descending_and_lookup_object_values(onprem):
    made = seed(onprem, 3)
    body = onprem.get("requests", {"list_info": {"row_count": 100, "sort_field": "created_time",
                                                 "sort_order": "desc"}}).json()
    assert [r["id"] for r in body["requests"]] == [m["id"] for m in reversed(made)]
    status_id = made[0]["status"]["id"]
    by_obj = onprem.get("requests", {"list_info": {"row_count": 100, "search_criteria": [
        {"field": "status", "condition": "is", "value": {"id": status_id, "name": "Open"}}]}}).json()
    assert len(by_obj["requests"]) == 3
