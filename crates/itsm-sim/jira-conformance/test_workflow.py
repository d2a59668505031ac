"""Statuses, transitions and resolutions on the default and the custom workflow."""
import pytest
from jira import JIRAError

from conftest import sec_bug


def test_custom_workflow_done_is_two_transitions_away_and_needs_a_resolution(jira):
    issue = jira.create_issue(fields=sec_bug("two hops"))
    assert [t["name"] for t in jira.transitions(issue)] == ["Start triage"]
    jira.transition_issue(issue, "Start triage")
    assert jira.issue(issue.key).fields.status.statusCategory.key == "indeterminate"
    resolve = [t for t in jira.transitions(issue, expand="transitions.fields") if t["name"] == "Resolve"][0]
    assert resolve["hasScreen"] is True
    assert resolve["fields"]["resolution"]["required"] is True
    with pytest.raises(JIRAError) as e:
        jira.transition_issue(issue, resolve["id"])
    assert e.value.status_code == 400
    assert "resolution" in e.value.response.json()["errors"]
    jira.transition_issue(issue, resolve["id"], fields={"resolution": {"name": "Won't Do"}})
    got = jira.issue(issue.key)
    assert got.fields.status.name == "Closed"
    assert got.fields.status.statusCategory.key == "done"
    assert got.fields.resolution.name == "Won't Do"
    assert got.fields.resolutiondate is not None


def test_reopen_keeps_a_stale_resolution(jira):
    issue = jira.create_issue(fields=sec_bug("stale"))
    jira.transition_issue(issue, "Start triage")
    jira.transition_issue(issue, "Resolve", fields={"resolution": {"name": "Done"}})
    jira.transition_issue(issue, "Reopen")
    got = jira.issue(issue.key)
    assert got.fields.status.statusCategory.key == "new"
    assert got.fields.resolution.name == "Done"  # no clearing post-function: status decides


def test_default_workflow_sets_and_clears_the_resolution(jira):
    issue = jira.create_issue(fields={"project": {"key": "OPS"}, "issuetype": {"name": "Task"},
                                      "summary": "default"})
    assert jira.issue(issue.key).fields.status.name == "To Do"
    assert {t["name"] for t in jira.transitions(issue)} == {"To Do", "In Progress", "Done"}
    jira.transition_issue(issue, "Done")
    assert jira.issue(issue.key).fields.resolution.name == "Done"
    jira.transition_issue(issue, "In Progress")
    assert jira.issue(issue.key).fields.resolution is None


def test_an_unavailable_transition_is_400(jira):
    issue = jira.create_issue(fields=sec_bug("bad id"))
    with pytest.raises(JIRAError) as e:
        jira.transition_issue(issue, "21")  # Resolve is not offered from Open
    assert e.value.status_code == 400
    assert "is not valid for this issue" in e.value.text


def test_a_simultaneous_transition_is_409(jira, control):
    issue = jira.create_issue(fields=sec_bug("busy"))
    control("POST", f"/_sim/jira/issues/{issue.key}/hold-transition")
    with pytest.raises(JIRAError) as e:
        jira.transition_issue(issue, "11")
    assert e.value.status_code == 409
    control("DELETE", f"/_sim/jira/issues/{issue.key}/hold-transition")
    jira.transition_issue(issue, "11")
    assert jira.issue(issue.key).fields.status.name == "Triaged"


def test_reader_sees_no_transitions(sim_url, ca_path, jira):
    from conftest import connect
    reader = connect(sim_url, ca_path, basic_auth=("reader@example.com", "reader-token"))
    assert reader.transitions("SEC-1") == []
