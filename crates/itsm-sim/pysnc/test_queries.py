"""Encoded queries as pysnc builds them (always ending in ORDERBY..., display_value=all)."""
from conftest import insert_incidents

ABEL = "62826bf03710200044e0bfc8bcbe5df1"
BETH = "46d44a23a9fe19810012d100cca80666"


def seed(client):
    return insert_incidents(client, [
        {"short_description": "Email server down", "impact": "1", "urgency": "1", "caller_id": ABEL, "category": "software"},
        {"short_description": "VPN flaps", "impact": "2", "urgency": "3", "caller_id": BETH, "category": "network"},
        {"short_description": "Printer jam", "impact": "3", "urgency": "3", "caller_id": ABEL, "category": "hardware"},
        {"short_description": "Disk full on db01", "impact": "2", "urgency": "1", "category": "database"},
    ])


def numbers(gr):
    return [r.get_value("number") for r in gr]


def test_equality_and_priority_from_impact_and_urgency(client):
    seed(client)
    gr = client.GlideRecord("incident")
    gr.add_query("priority", "1")
    gr.query()
    assert gr.get_row_count() == 1
    assert numbers(gr) == ["INC0010001"]


def test_or_conditions(client):
    seed(client)
    gr = client.GlideRecord("incident")
    cond = gr.add_query("category", "software")
    cond.add_or_condition("category", "network")
    gr.query()
    assert sorted(numbers(gr)) == ["INC0010001", "INC0010002"]


def test_operators(client):
    seed(client)
    cases = {
        "short_descriptionLIKEdown": ["INC0010001"],
        "short_descriptionSTARTSWITHVPN": ["INC0010002"],
        "short_descriptionENDSWITHdb01": ["INC0010004"],
        "priorityIN4,5": ["INC0010002", "INC0010003"],
        "priorityNOT IN1,2,3": ["INC0010002", "INC0010003"],
        "priority>=4": ["INC0010002", "INC0010003"],
        "priority<2": ["INC0010001"],
        "caller_idISEMPTY": ["INC0010004"],
        "caller_idISNOTEMPTY": ["INC0010001", "INC0010002", "INC0010003"],
        "category!=hardware^category!=database": ["INC0010001", "INC0010002"],
        "caller_id.name=Abel Tuter": ["INC0010001", "INC0010003"],
        "priority=1^NQpriority=5": ["INC0010001", "INC0010003"],
    }
    for query, expected in cases.items():
        gr = client.GlideRecord("incident")
        gr.add_encoded_query(query)
        gr.query()
        assert sorted(numbers(gr)) == expected, query


def test_ordering_descending(client):
    seed(client)
    gr = client.GlideRecord("incident")
    gr.order_by_desc("number")
    gr.query()
    assert numbers(gr) == ["INC0010004", "INC0010003", "INC0010002", "INC0010001"]


def test_unknown_field_is_ignored_and_bad_value_matches_nothing(client):
    seed(client)
    gr = client.GlideRecord("incident")
    gr.add_encoded_query("not_a_real_field=x")
    gr.query()
    assert gr.get_row_count() == 4
    gr = client.GlideRecord("incident")
    gr.add_encoded_query("state=99999")
    gr.query()
    assert gr.get_row_count() == 0


def test_get_by_sys_id_and_by_number(client):
    ids = seed(client)
    gr = client.GlideRecord("incident")
    assert gr.get(ids[1])
    assert gr.get_value("number") == "INC0010002"
    gr = client.GlideRecord("incident")
    assert gr.get("number", "INC0010003")
    assert gr.get_value("sys_id") == ids[2]
    gr = client.GlideRecord("incident")
    assert gr.get("0" * 32) is False


def test_script_values(client):
    seed(client)
    gr = client.GlideRecord("sys_user")
    gr.add_encoded_query("user_name=javascript:gs.getUserName()")
    gr.query()
    assert gr.get_row_count() == 1
    assert gr.next()
    assert gr.get_value("sys_id") == "6816f79cc0a8016401c5a33be04be441"
