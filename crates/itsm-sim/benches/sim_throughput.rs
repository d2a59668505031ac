//! Throughput of the ServiceNow emulator over loopback HTTP: a fixed number of concurrent clients
//! hammer one operation for a fixed time, then the next. Run with
//! `cargo bench -p lockstep-itsm-sim --bench sim_throughput`. Bounded: about 3 s per phase.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lockstep_itsm_sim::{SimConfig, SimServer};
use serde_json::{Value, json};

const CLIENTS: usize = 16;
const PHASE: Duration = Duration::from_secs(3);

struct Outcome {
    ops: usize,
    errors: usize,
    latencies: Vec<Duration>,
    elapsed: Duration,
}

/// Runs `op` from CLIENTS tasks for PHASE; `op(client, i)` returns whether the call succeeded.
async fn phase<F, Fut>(http: &reqwest::Client, op: F) -> Outcome
where
    F: Fn(reqwest::Client, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let counter = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + PHASE;
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (op, http, counter) = (op.clone(), http.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut lat) = (0, 0, Vec::new());
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                if op(http.clone(), i).await {
                    ok += 1
                } else {
                    failed += 1
                }
                lat.push(t.elapsed());
            }
            (ok, failed, lat)
        }));
    }
    let mut out = Outcome {
        ops: 0,
        errors: 0,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        let (ok, failed, lat) = t.await.expect("bench task");
        out.ops += ok;
        out.errors += failed;
        out.latencies.extend(lat);
    }
    out.elapsed = start.elapsed();
    out
}

/// Reads the whole body; true when the status was the expected one.
async fn drained(r: reqwest::Result<reqwest::Response>, status: u16) -> bool {
    match r {
        Ok(r) => r.status() == status && r.bytes().await.is_ok(),
        Err(_) => false,
    }
}

fn report(name: &str, mut o: Outcome) {
    o.latencies.sort();
    let pct = |p: f64| {
        o.latencies
            .get(((o.latencies.len() as f64 * p) as usize).min(o.latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{name:<34} {:>9.0} ops/s  ({} ok, {} errors, p50 {:.2} ms, p99 {:.2} ms)",
        o.ops as f64 / o.elapsed.as_secs_f64(),
        o.ops,
        o.errors,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let sim = SimServer::start(SimConfig::default())
        .await
        .expect("sim starts");
    let base = Arc::new(sim.base_url().to_string());
    let http = sim
        .http_client_builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("client");
    println!(
        "itsm-sim throughput: {CLIENTS} concurrent clients, {} s per phase, loopback HTTP/1.1, Basic auth",
        PHASE.as_secs()
    );

    let b = base.clone();
    let writes = phase(&http, move |c, i| {
        let url = format!("{b}/api/now/table/incident");
        async move {
            let body = json!({"short_description": format!("bench {i}"), "impact": "2", "urgency": "2", "correlation_id": format!("lockstep:{i}")});
            let r = c.post(url).basic_auth("admin", Some("admin")).json(&body).send().await;
            drained(r, 201).await
        }
    })
    .await;
    let created = writes.ops;
    report("writes: POST incident", writes);

    let ids: Arc<Vec<String>> = Arc::new(
        sim.control()
            .records("incident", "ORDERBYnumber")
            .await
            .expect("records")
            .iter()
            .filter_map(|r| r.get("sys_id").and_then(Value::as_str).map(str::to_string))
            .collect(),
    );
    println!("  (table now holds {created} incidents)");

    let (b, ids2) = (base.clone(), ids.clone());
    report(
        "reads: GET incident by sys_id",
        phase(&http, move |c, i| {
            let url = format!("{b}/api/now/table/incident/{}", ids2[i % ids2.len()]);
            async move {
                let r = c.get(url).basic_auth("admin", Some("admin")).send().await;
                drained(r, 200).await
            }
        })
        .await,
    );

    let b = base.clone();
    report(
        "reads: GET by correlation_id",
        phase(&http, move |c, i| {
            let url = format!("{b}/api/now/table/incident?sysparm_query=correlation_id%3Dlockstep%3A{}&sysparm_limit=1", i % created.max(1));
            async move {
                let r = c.get(url).basic_auth("admin", Some("admin")).send().await;
                drained(r, 200).await
            }
        })
        .await,
    );

    let b = base.clone();
    report(
        "reads: poll page (100 of all, ORDERBY)",
        phase(&http, move |c, i| {
            // A poll cycle pages from offset 0: the first ten pages.
            let offset = (i % 10) * 100;
            let url = format!(
                "{b}/api/now/table/incident?sysparm_query=sys_updated_on%3E%3D2000-01-01%2000%3A00%3A00%5EORDERBYsys_updated_on%5EORDERBYsys_id&sysparm_limit=100&sysparm_offset={offset}&sysparm_fields=sys_id,number,state,sys_updated_on,sys_mod_count"
            );
            async move {
                let r = c.get(url).basic_auth("admin", Some("admin")).send().await;
                drained(r, 200).await
            }
        })
        .await,
    );

    let (b, ids2) = (base.clone(), ids.clone());
    report(
        "writes: PATCH incident",
        phase(&http, move |c, i| {
            let url = format!("{b}/api/now/table/incident/{}", ids2[i % ids2.len()]);
            async move {
                let body = json!({"state": if i % 2 == 0 { "2" } else { "3" }, "work_notes": format!("note {i}")});
                let r = c.patch(url).basic_auth("admin", Some("admin")).json(&body).send().await;
                drained(r, 200).await
            }
        })
        .await,
    );
    sim.shutdown().await;
}
