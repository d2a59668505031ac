"""The released update set parses as XML (expat, strict), and so does every record payload inside
it; it holds the app's records with the scripts from src/ unchanged."""

import pathlib
import xml.etree.ElementTree as ET

HERE = pathlib.Path(__file__).resolve().parent.parent
XML = HERE / "dist" / "lockstep-update-set.xml"


def updates():
    root = ET.parse(XML).getroot()
    assert root.tag == "unload"
    (remote,) = root.findall("sys_remote_update_set")
    assert remote.findtext("application_scope") == "x_lockstep"
    assert remote.findtext("state") == "loaded"
    return remote, root.findall("sys_update_xml")


def test_every_update_is_a_well_formed_record_of_this_update_set():
    remote, items = updates()
    ids = set()
    for item in items:
        assert item.findtext("remote_update_set") == remote.findtext("sys_id")
        payload = ET.fromstring(item.findtext("payload"))
        table = payload.attrib["table"]
        (record,) = list(payload)
        assert record.tag == table and record.attrib["action"] == "INSERT_OR_UPDATE"
        sys_id = record.findtext("sys_id")
        assert len(sys_id) == 32 and int(sys_id, 16) >= 0
        assert item.findtext("name") == f"{table}_{sys_id}"
        assert record.findtext("sys_scope") == remote.findtext("application")
        ids.add(sys_id)
    assert len(ids) == len(items), "sys_ids are unique"


def records(table):
    _, items = updates()
    found = []
    for item in items:
        payload = ET.fromstring(item.findtext("payload"))
        if payload.attrib["table"] == table:
            found.append(payload[0])
    return found


def test_the_app_holds_its_rules_properties_role_and_retry_event():
    rules = {r.findtext("collection"): r for r in records("sys_script")}
    assert set(rules) == {"incident", "change_request"}
    for rule in rules.values():
        assert rule.findtext("when") == "async"
        assert rule.findtext("action_insert") == rule.findtext("action_update") == "true"
        assert rule.findtext("script") == (HERE / "src/business_rule/lockstep_webhook.js").read_text()
    (include,) = records("sys_script_include")
    assert include.findtext("api_name") == "x_lockstep.LockstepWebhook"
    assert include.findtext("script") == (HERE / "src/script_include/LockstepWebhook.js").read_text()
    props = {p.findtext("name"): p for p in records("sys_properties")}
    assert {"x_lockstep.endpoint", "x_lockstep.tables", "x_lockstep.secret_credential"} <= set(props)
    assert all(p.findtext("write_roles") == "x_lockstep.admin" for p in props.values())
    assert props["x_lockstep.secret_credential"].findtext("value") in (None, ""), "no secret ships"
    (role,) = records("sys_user_role")
    assert role.findtext("name") == "x_lockstep.admin"
    (event,) = records("sysevent_register")
    (action,) = records("sysevent_script_action")
    assert event.findtext("event_name") == action.findtext("event_name") == "x_lockstep.webhook.retry"
