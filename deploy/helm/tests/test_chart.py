"""The chart, rendered and linted by the real Helm engine for every profile, validated against the
Kubernetes schemas of the versions we claim, and checked for what a platform team relies on."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from conftest import (
    CHART_DIR,
    HELM_DIR,
    REPO,
    of_kind,
    pod_specs,
    profile_values,
    render,
    chart,
)

# The Kubernetes minors the chart claims (Chart.yaml annotation); kubeVersion says >= the first.
CLAIMED = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["annotations"][
    "lockstep.io/tested-kubernetes-versions"
].split()
# Custom resources kubernetes-validate has no schema for; checked structurally below.
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}


def clean(doc: dict) -> dict:
    doc = {k: v for k, v in doc.items() if k != "_template"}
    if not doc["metadata"].get("annotations"):
        doc["metadata"] = {k: v for k, v in doc["metadata"].items() if k != "annotations"}
    return doc


def test_claimed_versions_match_kube_version():
    kube_version = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["kubeVersion"]
    assert kube_version == f">={CLAIMED[0]}.0-0"


def test_helm_lint_is_clean(profile):
    for version in CLAIMED:
        report = helm.lint(
            CHART_DIR, profile_values(profile), strict=True, kube_version=f"v{version}.0"
        )
        assert report["errors"] == [], report
        worse_than_info = [m for m in report["messages"] if m["severity"] >= 2]
        assert worse_than_info == [], worse_than_info


def test_profiles_pass_the_values_schema(profile):
    chart().validate_schema(profile_values(profile))


def test_every_manifest_is_valid_for_every_claimed_kubernetes_version(manifests):
    checked = 0
    for doc in manifests:
        if doc["kind"] in CRD_KINDS:
            continue
        for version in CLAIMED:
            kubernetes_validate.validate(clean(doc), f"{version}.0", strict=True)
            checked += 1
    assert checked > 0


def test_custom_resources_have_the_operator_shape(manifests):
    for sm in of_kind(manifests, "ServiceMonitor"):
        assert sm["apiVersion"] == "monitoring.coreos.com/v1"
        assert sm["spec"]["selector"]["matchLabels"]
        assert all(e["port"] == "admin" and e["path"] == "/metrics" for e in sm["spec"]["endpoints"])
    for rule in of_kind(manifests, "PrometheusRule"):
        assert rule["apiVersion"] == "monitoring.coreos.com/v1"
        for group in rule["spec"]["groups"]:
            for r in group["rules"]:
                assert set(r) <= {"alert", "expr", "for", "labels", "annotations"}, r
                assert r["alert"] and r["expr"] and r["labels"]["severity"]


def test_the_default_render_has_one_deployment_and_service_per_service(manifests, profile):
    names = {d["metadata"]["name"] for d in of_kind(manifests, "Deployment")}
    services = {"ingest-webhook", "sync-applier", "ticket-writer", "api", "poller"}
    assert names == {f"rel-lockstep-{s}" for s in services}
    assert {d["metadata"]["name"] for d in of_kind(manifests, "Service")} == names


def test_no_secret_value_is_rendered(manifests):
    assert of_kind(manifests, "Secret") == []
    text = yaml.safe_dump_all(manifests)
    assert "postgres://" not in text and "postgresql://" not in text
    for name, spec in pod_specs(manifests):
        for container in spec["containers"]:
            for env in container.get("env", []):
                if env["name"] in ("LOCKSTEP_DATABASE__URL", "LOCKSTEP_MASTER_KEYS"):
                    assert "value" not in env, (name, env)
                    assert env["valueFrom"]["secretKeyRef"]["name"], (name, env)


def test_secrets_come_from_the_named_existing_secrets():
    docs = render(profile_values("production-values"))
    refs = set()
    for _, spec in pod_specs(docs):
        for container in spec["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((env["name"], ref["name"], ref["key"]))
    assert ("LOCKSTEP_DATABASE__URL", "lockstep-database", "url") in refs
    assert ("LOCKSTEP_MASTER_KEYS", "lockstep-master-keys", "keys") in refs


def test_every_container_runs_non_root_read_only_without_capabilities(manifests):
    for name, spec in pod_specs(manifests):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] != 0, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name


def test_every_service_container_has_probes_on_its_admin_port(manifests):
    for d in of_kind(manifests, "Deployment"):
        c = d["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert "admin" in ports
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "admin"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "admin"}
        startup = c["startupProbe"]
        if "grpc" in ports:
            assert startup["grpc"]["port"] == ports["grpc"], d["metadata"]["name"]
        else:
            assert startup["httpGet"]["port"] == "admin"
        env = {e["name"]: e.get("value") for e in c["env"]}
        assert env["LOCKSTEP_ADMIN__LISTEN"] == f"0.0.0.0:{ports['admin']}"


def test_the_migrations_job_runs_as_a_hook_before_everything_else():
    docs = render(None)
    hooks = [d for d in docs if "helm.sh/hook" in d["metadata"]["annotations"]]
    assert {d["kind"] for d in hooks} == {"Job", "ServiceAccount"}
    weight = {d["kind"]: int(d["metadata"]["annotations"]["helm.sh/hook-weight"]) for d in hooks}
    assert weight["ServiceAccount"] < weight["Job"], "the Job's ServiceAccount must exist first"
    for d in hooks:
        ann = d["metadata"]["annotations"]
        assert set(ann["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
        assert "before-hook-creation" in ann["helm.sh/hook-delete-policy"]
    job = of_kind(hooks, "Job")[0]
    assert "hook-succeeded" in job["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
    spec = job["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == of_kind(hooks, "ServiceAccount")[0]["metadata"]["name"]
    assert spec["containers"][0]["command"] == ["/usr/local/bin/lockstep", "admin", "migrate"]
    assert spec["restartPolicy"] == "Never"


def test_without_hooks_the_job_is_a_plain_resource_named_by_revision():
    docs = render({"migrations": {"useHelmHooks": False}}, revision=7)
    jobs = of_kind(docs, "Job")
    assert len(jobs) == 1 and jobs[0]["metadata"]["name"] == "rel-lockstep-migrations-7"
    assert all("helm.sh/hook" not in d["metadata"]["annotations"] for d in docs)
    assert render({"migrations": {"enabled": False}}) and not of_kind(
        render({"migrations": {"enabled": False}}), "Job"
    )


def test_hpa_replaces_replicas_for_stateless_services_only():
    docs = render(profile_values("production-values"))
    hpas = {d["spec"]["scaleTargetRef"]["name"] for d in of_kind(docs, "HorizontalPodAutoscaler")}
    assert hpas == {f"rel-lockstep-{s}" for s in ("ingest-webhook", "sync-applier", "ticket-writer", "api")}
    for d in of_kind(docs, "Deployment"):
        assert ("replicas" in d["spec"]) == (d["metadata"]["name"] not in hpas)


def test_only_the_webhook_and_the_workbench_are_exposed():
    docs = render(profile_values("ingress-values"))
    backends = {
        ingress["metadata"]["name"]: {
            (p["backend"]["service"]["name"], p["backend"]["service"]["port"]["name"])
            for rule in ingress["spec"]["rules"]
            for p in rule["http"]["paths"]
        }
        for ingress in of_kind(docs, "Ingress")
    }
    assert backends == {
        "rel-lockstep-ingest-webhook": {("rel-lockstep-ingest-webhook", "http")},
        "rel-lockstep-api": {("rel-lockstep-api", "http")},
    }
    for svc in of_kind(docs, "Service"):
        assert svc["spec"]["type"] == "ClusterIP"
    # Without the profile, nothing is exposed.
    assert of_kind(render({}), "Ingress") == []


def test_the_api_serves_the_workbench_and_reaches_its_upstreams():
    docs = render({})
    (api,) = [d for d in of_kind(docs, "Deployment") if d["metadata"]["name"] == "rel-lockstep-api"]
    container = api["spec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": 50051, "http": 8081, "admin": 9094}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["LOCKSTEP_HTTP__LISTEN"] == "0.0.0.0:8081"
    assert env["LOCKSTEP_UPSTREAM__TICKET_WRITER"] == "http://rel-lockstep-ticket-writer:50052"
    assert env["LOCKSTEP_UPSTREAM__POLLER"] == "http://rel-lockstep-poller:50053"
    assert env["LOCKSTEP_HTTP__SECURE_COOKIES"] == "true"
    services = {d["metadata"]["name"]: d for d in of_kind(docs, "Service")}
    # The upstream addresses name Services the chart renders, on their gRPC ports.
    for name, port in (("rel-lockstep-ticket-writer", 50052), ("rel-lockstep-poller", 50053)):
        assert {"name": "grpc", "port": port} in [
            {"name": p["name"], "port": p["port"]} for p in services[name]["spec"]["ports"]
        ]
    assert {p["name"]: p["port"] for p in services["rel-lockstep-api"]["spec"]["ports"]}["http"] == 8081


def test_network_policies_open_only_the_webhook_port_to_the_outside():
    docs = render(profile_values("ingress-values"))
    policies = {d["metadata"]["name"]: d for d in of_kind(docs, "NetworkPolicy")}
    assert len(policies) == 5
    release_pods = {"app.kubernetes.io/name": "lockstep", "app.kubernetes.io/instance": "rel"}
    ingress_controller = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    for name, policy in policies.items():
        for rule in policy["spec"]["ingress"]:
            port = rule["ports"][0]["port"]
            if port == "http" and name == "rel-lockstep-ingest-webhook":
                assert rule["from"] == [ingress_controller]
            elif port == "http":
                # The workbench: the release's pods and the peers named in workbenchFrom.
                assert name == "rel-lockstep-api"
                assert rule["from"] == [{"podSelector": {"matchLabels": release_pods}}, ingress_controller]
            elif port == "grpc":
                assert rule["from"][0] == {"podSelector": {"matchLabels": release_pods}}
            else:
                assert port == "admin" and rule["from"], (name, rule)


def test_a_bad_value_is_refused_with_a_message_naming_it():
    for bad, expected in [
        ({"ingestWebhook": {"replicas": "two"}}, "/ingestWebhook/replicas"),
        ({"database": {"url": "postgres://u:p@db/lockstep"}}, "additional properties 'url' not allowed"),
        ({"poller": {"autoscaling": {"enabled": True}}}, "additional properties 'autoscaling'"),
        ({"mode": "prod"}, "value must be one of 'production', 'development'"),
        ({"ingestWebhook": {"httpPort": 70000}}, "/ingestWebhook/httpPort"),
    ]:
        with pytest.raises(helm.HelmValuesError) as err:
            chart().render(bad, name="rel", namespace="lockstep")
        assert expected in str(err.value), str(err.value)


def test_dashboard_configmap_carries_the_sidecar_label_and_valid_json():
    docs = render(profile_values("production-values"))
    (cm,) = [d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-dashboard")]
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(cm["data"]["lockstep.json"])
    assert dashboard["uid"] == "lockstep-overview" and len(dashboard["panels"]) >= 10


def yamllint(config: str, files: list) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "yamllint", "--strict", "-c", config, *map(str, files)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_yamllint_passes_on_the_chart_values_and_rendered_manifests(tmp_path):
    config = str(HELM_DIR / "tests" / "yamllint.yaml")
    yamllint(config, [
        CHART_DIR / "Chart.yaml",
        CHART_DIR / "values.yaml",
        *sorted((CHART_DIR / "ci").glob("*.yaml")),
        HELM_DIR / "nats-jetstream-values.yaml",
    ])
    # The templates as Helm renders them (what kubectl receives), long lines allowed: the
    # dashboard's JSON and PromQL expressions are single lines.
    rendered = []
    for profile in ("default", "production-values", "ingress-values"):
        out = chart().render(profile_values(profile), name="rel", namespace="lockstep")
        text = "".join(
            "---\n" + body.strip("\n") + "\n"
            for path, body in sorted(out.items())
            if not path.endswith("NOTES.txt") and body.strip()
        )
        path = tmp_path / f"{profile}.yaml"
        path.write_text(text)
        rendered.append(path)
    yamllint(str(HELM_DIR / "tests" / "yamllint-rendered.yaml"), rendered)


def test_hadolint_passes_on_the_dockerfile():
    result = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "hadolint"), "--failure-threshold", "info", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_holds_every_binary_the_chart_runs():
    dockerfile = (REPO / "Dockerfile").read_text()
    docs = render(None)
    commands = {c["command"][0] for _, spec in pod_specs(docs) for c in spec["containers"]}
    for command in commands:
        binary = command.removeprefix("/usr/local/bin/")
        assert re.search(rf"target/release/{re.escape(binary)}\b", dockerfile), binary
    instructions = [line.split()[0] for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert "USER 65532:65532" in dockerfile and "HEALTHCHECK" not in instructions
