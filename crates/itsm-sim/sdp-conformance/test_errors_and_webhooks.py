"""Reference B7 (4015 on HTTP 429, errors inside an HTTP 200) and B6 (admin-configured webhooks:
a payload template of our own, a static header token, no HMAC)."""
import http.server
import json
import threading
import time

import pytest

from conftest import ONPREM, error_codes


def test_rate_limit_is_4015_with_http_429(onprem, control):
    control("PATCH", "/_sim/sdp/settings", json={"rate_limit_per_minute": 2})
    codes = [onprem.get("requests").status_code for _ in range(3)]
    assert codes[:2] == [200, 200]
    r = onprem.get("requests")
    assert r.status_code == 429
    assert error_codes(r) == [4015]


def test_an_error_inside_http_200_is_still_an_error(onprem, control):
    control("PATCH", "/_sim/sdp/settings", json={"errors_in_200_remaining": 1})
    r = onprem.post("requests", {"request": {"subject": "x"}})
    assert r.status_code == 200
    assert r.json()["response_status"]["status_code"] >= 4000
    assert error_codes(r)
    # The next call is served normally.
    assert onprem.post("requests", {"request": {"subject": "x"}}).json()["response_status"]["status_code"] == 2000


@pytest.fixture
def receiver():
    got = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got.append((dict(self.headers.items()), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sdp-hook?token=url-secret", got
    server.shutdown()


def wait_for(got, n):
    for _ in range(200):
        if len(got) >= n:
            return got
        time.sleep(0.05)
    raise AssertionError(f"expected {n} webhook calls, got {len(got)}")


def test_webhooks_on_create_and_update_with_our_template_and_token(onprem, control, receiver):
    url, got = receiver
    control("POST", "/_sim/sdp/webhooks", json={
        "portal": ONPREM, "url": url, "events": ["request_create", "request_update"],
        "payload_template": '{"id":"${request.id}","status":"${request.status.name}",'
                            '"last_updated_time":"${request.last_updated_time}"}',
        "header_name": "X-Webhook-Token", "header_value": "header-secret"})
    rid = onprem.create(subject="hooked")["id"]
    onprem.put(f"requests/{rid}", {"request": {"status": {"name": "Resolved"}}})
    calls = wait_for(got, 2)
    bodies = [json.loads(b) for _, b in calls]
    assert [b["id"] for b in bodies] == [rid, rid]
    assert [b["status"] for b in bodies] == ["Open", "Resolved"]
    assert bodies[1]["last_updated_time"].isdigit()
    for headers, _ in calls:
        lower = {k.lower(): v for k, v in headers.items()}
        assert lower["x-webhook-token"] == "header-secret"
        # No HMAC: SDP signs nothing.
        assert not any("signature" in k for k in lower)
    # The URL token arrives as configured.
    deliveries = control("GET", "/_sim/webhooks/deliveries")
    assert all("token=url-secret" in d["url"] for d in deliveries)
