//! A small HTTP client for the JSON API tests: bearer, cookie (+ CSRF) or no credential.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Clone, Debug)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    /// The session cookie, with the CSRF header when given.
    Cookie {
        secret: &'a str,
        csrf: Option<&'a str>,
    },
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The problem's `code`, after checking it is a problem+json answer.
    pub fn problem_code(&self) -> String {
        assert_eq!(
            self.headers["content-type"], "application/problem+json",
            "{}",
            self.text
        );
        let body = self.json();
        assert_eq!(body["status"], self.status.as_u16(), "{body}");
        assert!(!body["detail"].as_str().unwrap().is_empty(), "{body}");
        body["code"].as_str().unwrap().to_owned()
    }

    /// The session secret of a `Set-Cookie` answer, and the whole header.
    pub fn set_cookie(&self) -> (String, String) {
        let header = self.headers["set-cookie"].to_str().unwrap().to_owned();
        let secret = header
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("lockstep_session=")
            .unwrap()
            .to_owned();
        (secret, header)
    }
}

#[derive(Clone)]
pub struct Http {
    base: String,
    client: reqwest::Client,
}

impl Http {
    pub fn new(addr: std::net::SocketAddr) -> Self {
        Http {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        match auth {
            Auth::None => {}
            Auth::Bearer(token) => req = req.bearer_auth(token),
            Auth::Cookie { secret, csrf } => {
                req = req.header("cookie", format!("lockstep_session={secret}"));
                if let Some(csrf) = csrf {
                    req = req.header("x-csrf-token", csrf);
                }
            }
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        Answer {
            status: resp.status(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&self, path: &str, auth: Auth<'_>) -> Answer {
        self.send(Method::GET, path, auth, None).await
    }

    pub async fn post(&self, path: &str, auth: Auth<'_>, body: Value) -> Answer {
        self.send(Method::POST, path, auth, Some(body)).await
    }

    /// A GET with a bearer token that must succeed; its JSON.
    pub async fn ok(&self, path: &str, token: &str) -> Value {
        let a = self.get(path, Auth::Bearer(token)).await;
        assert_eq!(a.status, StatusCode::OK, "GET {path}: {}", a.text);
        a.json()
    }

    /// A POST with a bearer token that must succeed (200 or 201); its JSON.
    pub async fn ok_post(&self, path: &str, token: &str, body: Value) -> Value {
        let a = self.post(path, Auth::Bearer(token), body).await;
        assert!(
            a.status.is_success(),
            "POST {path}: {} {}",
            a.status,
            a.text
        );
        a.json()
    }
}
