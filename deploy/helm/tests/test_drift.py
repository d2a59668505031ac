"""Drift between the chart (and its dashboard) and the Rust code: every binary, port, config key,
health path, metric name, label and label value the chart relies on must exist in the sources.
Fails when a service renames a metric or moves a port without the chart following."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
import yaml

from conftest import CHART_DIR, REPO, of_kind, pod_specs, profile_values, render

# Service → the crate whose binary it is.
CRATES = {
    "ingest-webhook": "ingest-webhook",
    "sync-applier": "sync-applier",
    "ticket-writer": "ticket-writer",
    "api": "api",
    "poller": "poller",
}
PROMQL_WORDS = {"le", "by", "sum", "rate", "max", "increase", "delta", "histogram_quantile"}


def rust_sources() -> str:
    files = [
        p
        for p in (REPO / "crates").glob("*/src/**/*.rs")
        if "testkit" not in p.parts and p.name != "tests.rs" and "tests" not in p.parts
    ]
    return "\n".join(p.read_text() for p in files)


SOURCES = rust_sources()


def string_literals() -> set[str]:
    return set(re.findall(r'"([^"\\\n]*)"', SOURCES))


LITERALS = string_literals()


def defaults(service: str) -> dict:
    return tomllib.loads((REPO / "crates" / CRATES[service] / "src" / "defaults.toml").read_text())


def deployments() -> dict[str, dict]:
    docs = render(profile_values("production-values"))
    return {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d["spec"]["template"]["spec"]
        for d in of_kind(docs, "Deployment")
    }


def test_every_service_binary_exists_in_the_workspace():
    bins = set()
    for manifest in (REPO / "crates").glob("*/Cargo.toml"):
        for b in tomllib.loads(manifest.read_text()).get("bin", []):
            bins.add(b["name"])
    for service, spec in deployments().items():
        assert spec["containers"][0]["command"] == [f"/usr/local/bin/{service}"]
        assert service in bins, f"no [[bin]] named {service}"
    assert "lockstep" in bins  # the migrations Job's binary


def test_the_migrations_command_exists_in_the_cli():
    admin = (REPO / "crates" / "cli" / "src" / "admin.rs").read_text()
    assert re.search(r"^\s*Migrate\(Db\),", admin, re.M), "`lockstep admin migrate` is gone"
    assert "LOCKSTEP_DATABASE__URL" in admin


@pytest.mark.parametrize("service", sorted(CRATES))
def test_ports_match_the_services_built_in_defaults(service):
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    key = {"ingest-webhook": "ingestWebhook", "sync-applier": "syncApplier",
           "ticket-writer": "ticketWriter", "api": "api", "poller": "poller"}[service]
    block = values[key]
    toml = defaults(service)
    port = lambda section: int(toml[section]["listen"].rsplit(":", 1)[1])  # noqa: E731
    assert block["adminPort"] == port("admin")
    if "httpPort" in block:
        assert block["httpPort"] == port("http")
    if "grpcPort" in block:
        assert block["grpcPort"] == port("grpc")
    assert set(toml) & {"http", "grpc"} == {s for s, k in (("http", "httpPort"), ("grpc", "grpcPort")) if k in block}


@pytest.mark.parametrize("service", sorted(CRATES))
def test_every_lockstep_variable_the_chart_sets_is_a_config_key(service):
    spec = deployments()[service]
    toml_text = (REPO / "crates" / CRATES[service] / "src" / "defaults.toml").read_text()
    sections = (REPO / "crates" / "platform" / "src" / "config" / "sections.rs").read_text()
    for env in spec["containers"][0]["env"]:
        name = env["name"]
        if name in ("LOCKSTEP_MASTER_KEYS",):
            assert f'"{name}"' in SOURCES
            continue
        if not name.startswith("LOCKSTEP_"):
            continue
        path = name.removeprefix("LOCKSTEP_").lower().split("__")
        if len(path) == 1:
            assert re.search(rf"^{path[0]}\s*=", toml_text, re.M), f"{service}: {name}"
            continue
        section, key = path
        assert re.search(rf"^\[{section}\]", toml_text, re.M), f"{service}: no [{section}] for {name}"
        in_toml = re.search(rf"^#?\s*{key}\s*=", toml_text, re.M)
        in_struct = re.search(rf"pub {key}:", sections)
        assert in_toml or in_struct, f"{service}: {name} is not a config key"


def test_probe_and_metrics_paths_are_routes_of_the_admin_router():
    health = (REPO / "crates" / "platform" / "src" / "health.rs").read_text()
    routes = set(re.findall(r'\.route\("([^"]+)"', health))
    docs = render(profile_values("production-values"))
    paths = set()
    for _, spec in pod_specs(docs):
        for c in spec["containers"]:
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if "httpGet" in c.get(probe, {}):
                    paths.add(c[probe]["httpGet"]["path"])
    for sm in of_kind(docs, "ServiceMonitor"):
        paths |= {e["path"] for e in sm["spec"]["endpoints"]}
    assert paths == {"/healthz", "/readyz", "/metrics"}
    assert paths <= routes, paths - routes


def test_grpc_services_serve_grpc_health():
    server = (REPO / "crates" / "service-kit" / "src" / "server.rs").read_text()
    assert "tonic_health::server::health_reporter" in server
    for service in ("api", "ticket-writer", "poller"):
        app = (REPO / "crates" / CRATES[service] / "src").glob("**/*.rs")
        assert any("GrpcRoutes" in p.read_text() for p in app), f"{service} serves no gRPC health"


def expressions() -> list[str]:
    docs = render(profile_values("production-values"))
    exprs = [r["expr"] for rule in of_kind(docs, "PrometheusRule") for g in rule["spec"]["groups"] for r in g["rules"]]
    dashboard = json.loads((CHART_DIR / "dashboards" / "lockstep.json").read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) > 15
    return exprs


def test_every_metric_name_exists_in_the_code():
    for expr in expressions():
        names = re.findall(r"\blockstep_[a-z0-9_]+", expr)
        assert names, expr
        for name in names:
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name.endswith("_bucket"):
                assert base.endswith("_seconds"), f"{base} has no buckets (only *_seconds histograms do)"
            assert base in LITERALS, f"metric {base} (in `{expr}`) is recorded nowhere in crates/"


def test_every_label_and_label_value_exists_in_the_code():
    for expr in expressions():
        for label, values in re.findall(r'([a-z_]+)\s*(?:=~|!=|=)\s*"([^"]*)"', expr):
            assert label in LITERALS, f"label {label} in `{expr}`"
            for value in values.split("|"):
                assert value in LITERALS, f"label value {label}={value} in `{expr}` is never recorded"
        for group in re.findall(r"by \(([^)]*)\)", expr):
            for label in (x.strip() for x in group.split(",")):
                assert label == "le" or label in LITERALS, f"label {label} in `{expr}`"
