use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing;
use lockstep_itsm_sim::{SimConfig, SimHandle, SimServer};
use parking_lot::Mutex;
use reqwest::Method;
use serde_json::Value;

pub const ABEL: &str = "62826bf03710200044e0bfc8bcbe5df1";
pub const ADMIN: &str = "6816f79cc0a8016401c5a33be04be441";

pub async fn start() -> SimHandle {
    SimServer::start(SimConfig::default())
        .await
        .expect("sim starts")
}

pub async fn start_with(config: SimConfig) -> SimHandle {
    SimServer::start(config).await.expect("sim starts")
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

/// A request as `user` (Basic, password = user name, as seeded).
pub async fn call(
    sim: &SimHandle,
    method: Method,
    user: &str,
    path: &str,
    body: Option<Value>,
) -> Resp {
    let mut req = sim
        .http_client()
        .request(method, format!("{}{path}", sim.base_url()))
        .basic_auth(user, Some(user));
    if let Some(b) = body {
        req = req.json(&b);
    }
    into_resp(req.send().await.expect("request sent")).await
}

pub async fn get(sim: &SimHandle, user: &str, path: &str) -> Resp {
    call(sim, Method::GET, user, path, None).await
}

pub async fn post(sim: &SimHandle, user: &str, path: &str, body: Value) -> Resp {
    call(sim, Method::POST, user, path, Some(body)).await
}

pub async fn patch(sim: &SimHandle, user: &str, path: &str, body: Value) -> Resp {
    call(sim, Method::PATCH, user, path, Some(body)).await
}

/// Creates an incident as admin; returns the raw result.
pub async fn incident(sim: &SimHandle, fields: Value) -> Value {
    let r = post(sim, "admin", "/api/now/table/incident", fields).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["result"].clone()
}

pub fn error_of(r: &Resp) -> (String, Value) {
    (
        r.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        r.body["error"]["detail"].clone(),
    )
}

/// What a webhook receiver got: headers and the raw body.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
    pub status: Arc<Mutex<u16>>,
}

/// A webhook receiver on port 0; answers with `receiver.status` (200 unless changed).
pub async fn receiver() -> (String, Receiver) {
    let rx = Receiver {
        got: Arc::default(),
        status: Arc::new(Mutex::new(200)),
    };
    async fn hook(
        State(rx): State<Receiver>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> StatusCode {
        rx.got.lock().push(Received {
            headers,
            body: body.to_vec(),
        });
        StatusCode::from_u16(*rx.status.lock()).unwrap_or(StatusCode::OK)
    }
    let app = Router::new()
        .route("/hook", routing::post(hook))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver runs") });
    (url, rx)
}
