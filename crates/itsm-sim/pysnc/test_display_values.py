"""The value/display shapes of sysparm_display_value and sysparm_exclude_reference_link."""
from conftest import insert_incidents

ABEL = "62826bf03710200044e0bfc8bcbe5df1"


def test_all_mode_has_value_and_display_value(client):
    (sys_id,) = insert_incidents(client, [{"short_description": "dv", "caller_id": ABEL, "impact": "1", "urgency": "1"}])
    gr = client.GlideRecord("incident")
    assert gr.get(sys_id)
    assert gr.get_value("caller_id") == ABEL
    assert gr.get_display_value("caller_id") == "Abel Tuter"
    assert gr.get_value("priority") == "1"
    assert gr.get_display_value("priority") == "1 - Critical"
    assert gr.get_display_value("category") == "Inquiry / Help"


def test_display_only_and_reference_links(client):
    (sys_id,) = insert_incidents(client, [{"short_description": "links", "caller_id": ABEL}])
    gr = client.GlideRecord("incident")
    gr.display_value = True
    gr.exclude_reference_link = False
    gr.add_query("sys_id", sys_id)
    gr.query()
    assert gr.next()
    element = gr.get_element("caller_id")
    assert element.get_display_value() == "Abel Tuter"
    assert element.get_link().endswith(f"/api/now/table/sys_user/{ABEL}")
    assert gr.get_value("state") == "New"


def test_raw_values_and_work_notes_are_write_only(client):
    (sys_id,) = insert_incidents(client, [{"short_description": "notes"}])
    gr = client.GlideRecord("incident")
    assert gr.get(sys_id)
    gr.work_notes = "first note"
    gr.update()
    raw = client.GlideRecord("incident")
    raw.display_value = False
    raw.add_query("sys_id", sys_id)
    raw.query()
    assert raw.next()
    assert raw.get_value("work_notes") == ""
    assert raw.get_value("state") == "1"
    shown = client.GlideRecord("incident")
    assert shown.get(sys_id)
    assert "System Administrator (Work notes)\nfirst note" in shown.get_display_value("work_notes")
    journal = client.GlideRecord("sys_journal_field")
    journal.add_encoded_query(f"element_id={sys_id}^element=work_notes")
    journal.query()
    assert journal.get_row_count() == 1


def test_fields_limit(client):
    insert_incidents(client, [{"short_description": "few fields"}])
    gr = client.GlideRecord("incident")
    gr.fields = ["number", "caller_id.name"]
    gr.query()
    assert gr.next()
    assert sorted(gr.fields) == ["caller_id.name", "number", "sys_id"]
