"""Pagination across several pages: pysnc pages with sysparm_offset and stops on X-Total-Count."""
from conftest import insert_incidents


def test_iterates_every_record_across_pages(client):
    insert_incidents(client, [{"short_description": f"bulk {i:03}", "urgency": str(1 + i % 3)} for i in range(95)])
    gr = client.GlideRecord("incident", batch_size=20)
    gr.query()
    assert gr.get_row_count() == 95
    seen = [r.get_value("short_description") for r in gr]
    assert len(seen) == 95
    assert sorted(seen) == [f"bulk {i:03}" for i in range(95)]
    # Five GETs of at most 20 rows each.
    gets = [r for r in requests_log(client) if r["method"] == "GET"]
    assert len(gets) == 5


def requests_log(client):
    r = client.session.get(client.instance + "/_sim/requests")
    r.raise_for_status()
    return [e for e in r.json() if e["path"] == "/api/now/table/incident"]


def test_paging_with_a_query_and_a_limit(client):
    insert_incidents(client, [{"short_description": f"row {i}", "impact": "1" if i % 2 else "3"} for i in range(30)])
    gr = client.GlideRecord("incident", batch_size=7)
    gr.add_query("impact", "1")
    gr.order_by("short_description")
    gr.query()
    assert gr.get_row_count() == 15
    assert len([r for r in gr]) == 15
    limited = client.GlideRecord("incident", batch_size=4)
    limited.limit = 10
    limited.query()
    assert len([r for r in limited]) == 10
