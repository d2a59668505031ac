#!/usr/bin/env python3
"""Measures what issue 18 asks about the runtime image, without a container engine:

1. the size of what the image would hold: the release binaries as built and stripped of debug
   info (the Dockerfile builds with CARGO_PROFILE_RELEASE_DEBUG=false), and the tar layer of the
   stripped binaries compressed with gzip -9 (how registries store layers) and zstd -19;
2. each service's start-to-ready time: from spawning its release binary to the first 200 from its
   /readyz, against an already running PostgreSQL and NATS, RUNS times each (median and max).

Usage (after `cargo build --release` of the binaries, with DATABASE_URL and NATS_URL set, for
example inside `scripts/with-services.sh`):  python3 scripts/measure-delivery.py [RUNS]
"""

from __future__ import annotations

import base64
import gzip
import io
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"
SERVICES = {  # binary: (section of its own port, or None)
    "ingest-webhook": "http",
    "sync-applier": None,
    "ticket-writer": "grpc",
    "api": "grpc",
    "poller": "grpc",
}
BINARIES = ["lockstep", *SERVICES]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sizes(tmp: pathlib.Path) -> None:
    stripped = tmp / "stripped"
    stripped.mkdir()
    raw_total = stripped_total = 0
    for name in BINARIES:
        src = TARGET / name
        dst = stripped / name
        shutil.copy(src, dst)
        subprocess.run(["strip", "--strip-debug", str(dst)], check=True)
        raw_total += src.stat().st_size
        stripped_total += dst.stat().st_size
        print(f"  {name:15} {src.stat().st_size / 1e6:7.1f} MB  stripped of debug info {dst.stat().st_size / 1e6:7.1f} MB")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in BINARIES:
            tar.add(stripped / name, arcname=f"usr/local/bin/{name}")
    layer = buf.getvalue()
    gz = len(gzip.compress(layer, compresslevel=9))
    print(f"  all {len(BINARIES)}: {raw_total / 1e6:.1f} MB as built, {stripped_total / 1e6:.1f} MB stripped of debug info")
    print(f"  layer (tar of the stripped binaries): gzip -9 {gz / 1e6:.1f} MB", end="")
    if shutil.which("zstd"):
        zst = subprocess.run(["zstd", "-19", "-q", "-c"], input=layer, capture_output=True, check=True).stdout
        print(f", zstd -19 {len(zst) / 1e6:.1f} MB")
    else:
        print()


def database() -> str:
    name = f"lockstep_measure_{uuid.uuid4().hex[:10]}"
    base = os.environ["DATABASE_URL"]
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    url = base.rsplit("/", 1)[0] + f"/{name}"
    subprocess.run([str(TARGET / "lockstep"), "admin", "migrate", "--database-url", url], check=True,
                   capture_output=True)
    return name


def start_to_ready(binary: str, section: str | None, env: dict) -> float:
    admin = free_port()
    env = dict(env, LOCKSTEP_ADMIN__LISTEN=f"127.0.0.1:{admin}")
    if section:
        env[f"LOCKSTEP_{section.upper()}__LISTEN"] = f"127.0.0.1:{free_port()}"
    started = time.perf_counter()
    proc = subprocess.Popen([str(TARGET / binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{binary} exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{admin}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"{binary} not ready after 30 s")
            time.sleep(0.002)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        print("sizes:")
        sizes(pathlib.Path(tmp))
    name = database()
    prefix = f"m{uuid.uuid4().hex[:10]}"
    env = dict(
        os.environ,
        LOCKSTEP_DATABASE__URL=os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}",
        LOCKSTEP_NATS__URL=os.environ["NATS_URL"],
        LOCKSTEP_NATS__SUBJECT_PREFIX=prefix,
        LOCKSTEP_MASTER_KEYS="k1:" + base64.b64encode(os.urandom(32)).decode(),
        LOCKSTEP_TELEMETRY__FILTER="warn",
    )
    try:
        print(f"start-to-ready (spawn → first 200 from /readyz), {runs} runs each:")
        for binary, section in SERVICES.items():
            times = [start_to_ready(binary, section, env) for _ in range(runs)]
            print(f"  {binary:15} median {statistics.median(times) * 1000:6.0f} ms   max {max(times) * 1000:6.0f} ms")
    finally:
        subprocess.run(["psql", os.environ["DATABASE_URL"], "-q", "-c",
                        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)
        node = shutil.which("node")
        if node:  # the stream the services created under the private prefix
            subprocess.run([node, "-e", "import('./servicenow/test/nats.mjs').then(m => m.deleteStream("
                            f"'{os.environ['NATS_URL']}', '{prefix.upper()}'))"], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
