"""Shared fixtures: the chart loaded by the real Helm engine (helm-python-sdk), rendered once per
profile, and the Rust sources the drift tests read."""

from __future__ import annotations

import functools
import pathlib

import helm_python as helm
import pytest
import yaml

HELM_DIR = pathlib.Path(__file__).resolve().parent.parent
CHART_DIR = HELM_DIR / "lockstep"
REPO = HELM_DIR.parent.parent
RELEASE = "rel"
NAMESPACE = "lockstep"

# Profiles: the default values plus every documented scenario in ci/.
PROFILES = ["default"] + sorted(p.stem for p in (CHART_DIR / "ci").glob("*-values.yaml"))


def profile_values(profile: str) -> dict | None:
    if profile == "default":
        return None
    return yaml.safe_load((CHART_DIR / "ci" / f"{profile}.yaml").read_text())


@functools.lru_cache(maxsize=1)
def chart() -> helm.Chart:
    return helm.Chart.load(CHART_DIR)


def render(values: dict | None, **opts) -> list[dict]:
    """Renders like `helm template` and returns the manifests (NOTES.txt left out)."""
    opts.setdefault("is_install", True)
    out = chart().render(values, name=RELEASE, namespace=NAMESPACE, **opts)
    docs = []
    for path, text in sorted(out.items()):
        if path.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                doc.setdefault("metadata", {}).setdefault("annotations", {})
                doc["_template"] = path
                docs.append(doc)
    return docs


@functools.lru_cache(maxsize=None)
def _rendered(profile: str) -> tuple:
    return tuple(render(profile_values(profile)))


@pytest.fixture(params=PROFILES)
def profile(request) -> str:
    return request.param


@pytest.fixture
def manifests(profile) -> list[dict]:
    return [dict(d) for d in _rendered(profile)]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    """(name, pod spec) of every workload."""
    specs = []
    for d in docs:
        if d["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            specs.append((d["metadata"]["name"], d["spec"]["template"]["spec"]))
    return specs
