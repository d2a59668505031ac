"""search/jql, the removed /search, and metadata discovery (fields, createmeta, priorities)."""
import pytest
from jira import JIRAError

from conftest import sec_bug


def test_search_jql_with_fields(jira):
    found = jira.search_issues("project = SEC ORDER BY key ASC", fields="status,updated")
    assert [i.key for i in found] == ["SEC-1", "SEC-2"]
    assert found[0].fields.status.name == "Open"
    assert found[0].fields.updated


def test_search_pages_with_next_page_token(jira):
    for n in range(4):
        jira.create_issue(fields=sec_bug(f"page {n}"))
    first = jira.enhanced_search_issues("project = SEC ORDER BY id ASC", maxResults=2, fields="key")
    assert len(first) == 2 and first.nextPageToken
    raw = jira.enhanced_search_issues("project = SEC ORDER BY id ASC", maxResults=2,
                                      nextPageToken=first.nextPageToken, json_result=True)
    assert "total" not in raw and raw["isLast"] is False
    everything = jira.enhanced_search_issues("project = SEC ORDER BY id ASC", maxResults=0)
    assert len(everything) == 6


def test_search_defaults_to_ids_only(jira):
    raw = jira._get_json("search/jql", params={"jql": "project = OPS"})
    assert raw["issues"] and all("fields" not in i for i in raw["issues"])
    assert raw["isLast"] is True and "total" not in raw


def test_post_search_and_status_category(jira):
    found = jira.enhanced_search_issues("statusCategory = indeterminate ORDER BY key", fields=["status"],
                                        use_post=True)
    assert [i.key for i in found] == ["OPS-2", "SEC-2"]


def test_approximate_count(jira):
    assert jira.approximate_issue_count("project = OPS") == 2


def test_unbounded_jql_is_rejected(jira):
    with pytest.raises(JIRAError) as e:
        jira.search_issues("order by key desc")
    assert e.value.status_code == 400
    assert "Unbounded JQL queries are not allowed here" in e.value.text


def test_the_removed_search_api_answers_410(jira):
    # The client itself refuses startAt > 0 on Cloud; a direct call reaches Jira's real answer.
    with pytest.raises(JIRAError):
        jira.search_issues("project = SEC", startAt=1)
    with pytest.raises(JIRAError) as e:
        jira._get_json("search", params={"jql": "project = SEC"})
    assert e.value.status_code == 410
    assert "CHANGE-2046" in e.value.text


def test_fields_and_clause_names(jira):
    fields = {f["id"]: f for f in jira.fields()}
    assert fields["customfield_10050"]["clauseNames"] == ["cf[10050]", "Affected asset"]
    assert fields["summary"]["schema"]["system"] == "summary"


def test_createmeta_issue_types_and_fields(jira):
    types = jira._get_json("issue/createmeta/SEC/issuetypes")
    names = {t["name"]: t for t in types["issueTypes"]}
    assert names["Sub-task"]["subtask"] is True and names["Bug"]["subtask"] is False
    meta = jira._get_json(f"issue/createmeta/OPS/issuetypes/{names['Bug']['id']}")
    by_id = {f["fieldId"]: f for f in meta["fields"]}
    assert by_id["summary"]["required"] is True
    assert [p["name"] for p in by_id["priority"]["allowedValues"]] == ["High", "Medium", "Low"]
    sec = jira._get_json(f"issue/createmeta/SEC/issuetypes/{names['Bug']['id']}")
    assert {f["fieldId"]: f for f in sec["fields"]}["customfield_10050"]["required"] is True
    with pytest.raises(JIRAError) as e:
        jira._get_json("issue/createmeta/SEC/issuetypes", params={"maxResults": 201})
    assert "must not exceed the limit '200'" in e.value.text


def test_priority_search_and_projects(jira):
    page = jira._get_json("priority/search", params={"projectId": "10001"})
    assert [p["name"] for p in page["values"]] == ["High", "Medium", "Low"]
    assert {p.key for p in jira.projects()} == {"SEC", "OPS"}  # HR is not visible
    assert jira.project("SEC").name == "Security"
