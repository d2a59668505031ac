"""Insert, update and delete through pysnc, with the platform's business rules."""
import pytest
from pysnc.exceptions import RoleException

from conftest import client_as, insert_incidents


def test_insert_returns_defaults_and_numbers_sequentially(client):
    gr = client.GlideRecord("incident")
    gr.initialize()
    gr.short_description = "from pysnc"
    sys_id = gr.insert()
    assert len(str(sys_id)) == 32
    assert gr.get_value("number") == "INC0010001"
    assert gr.get_value("state") == "1"
    assert gr.get_display_value("state") == "New"
    assert gr.get_value("priority") == "5"
    assert gr.get_value("sys_mod_count") == "0"
    gr2 = client.GlideRecord("incident")
    gr2.initialize()
    gr2.short_description = "second"
    gr2.insert()
    assert gr2.get_value("number") == "INC0010002"


def test_update_moves_state_and_system_fields(client):
    (sys_id,) = insert_incidents(client, [{"short_description": "to work on", "impact": "2", "urgency": "2"}])
    gr = client.GlideRecord("incident")
    assert gr.get(sys_id)
    gr.state = "2"
    gr.urgency = "1"
    gr.update()
    assert gr.get_value("state") == "2"
    assert gr.get_value("incident_state") == "2"
    assert gr.get_value("priority") == "2"
    assert gr.get_value("sys_mod_count") == "1"


def test_resolving_without_close_code_is_refused_by_the_data_policy(client):
    (sys_id,) = insert_incidents(client, [{"short_description": "needs close info"}])
    gr = client.GlideRecord("incident")
    assert gr.get(sys_id)
    gr.state = "6"
    with pytest.raises(RoleException) as err:
        gr.update()
    assert "Data Policy Exception: The following fields are mandatory: Resolution code" in str(err.value)
    gr = client.GlideRecord("incident")
    assert gr.get(sys_id)
    gr.state = "6"
    gr.close_code = "Solution provided"
    gr.close_notes = "fixed"
    gr.update()
    assert gr.get_value("state") == "6"
    assert gr.get_value("resolved_at") != ""


def test_delete(client):
    ids = insert_incidents(client, [{"short_description": "a"}, {"short_description": "b"}])
    gr = client.GlideRecord("incident")
    assert gr.get(ids[0])
    assert gr.delete() is True
    gone = client.GlideRecord("incident")
    assert gone.get(ids[0]) is False
    rest = client.GlideRecord("incident")
    rest.query()
    assert rest.get_row_count() == 1


def test_role_checks(sim_url, ca_path, client):
    insert_incidents(client, [{"short_description": "visible to itil only"}])
    nobody = client_as(sim_url, ca_path, "no.roles")
    gr = nobody.GlideRecord("incident")
    gr.query()
    # Row-level ACLs: no rows, but the count is ACL-blind.
    assert list(gr) == []
    gr = nobody.GlideRecord("incident")
    gr.initialize()
    gr.short_description = "not allowed"
    with pytest.raises(RoleException) as err:
        gr.insert()
    assert "ACL Exception Insert Failed due to security constraints" in str(err.value)
    agent = client_as(sim_url, ca_path, "beth.anglin")
    gr = agent.GlideRecord("incident")
    gr.query()
    assert gr.get_row_count() == 1
