//! Masking of secrets in what the executor logs: headers, URL query parameters, JSON bodies and
//! form bodies. Masking is by name: any header, parameter or JSON key whose lower-cased name
//! contains a secret marker (`authorization`, `password`, `secret`, `token`, `apikey`, …) has
//! its value replaced by `[masked]`. Header values marked sensitive are masked whatever their
//! name.

use http::HeaderMap;
use serde_json::Value;
use url::Url;

pub const MASK: &str = "[masked]";

/// Name fragments that mark a value as secret. `authorization` covers `Proxy-Authorization`;
/// `apikey`/`api_key` cover `x-sn-apikey`; `token` covers access, refresh and id tokens.
const SECRET_MARKERS: &[&str] = &[
    "authorization",
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "cookie",
    "signature",
    "assertion",
];

/// Bodies longer than this are cut in logs.
pub const MAX_LOGGED_BODY: usize = 2048;

pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_MARKERS.iter().any(|m| lower.contains(m))
}

/// `name: value` pairs of the headers with secret values masked.
pub fn masked_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let shown = if is_secret_name(name.as_str()) || value.is_sensitive() {
                MASK.to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

/// The URL with secret query parameters masked (ServiceNow accepts `?x-sn-apikey=`).
pub fn masked_url(url: &Url) -> String {
    if url.query().is_none() {
        return url.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if is_secret_name(&k) {
                MASK.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    let mut masked = url.clone();
    masked.query_pairs_mut().clear().extend_pairs(pairs);
    masked.to_string()
}

/// A body as it may be logged: JSON and form bodies with secret fields masked, other text cut to
/// [`MAX_LOGGED_BODY`] bytes, binary bodies summarised.
pub fn masked_body(content_type: Option<&str>, body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let text = if let Ok(mut json) = serde_json::from_slice::<Value>(body) {
        mask_json(&mut json);
        json.to_string()
    } else if ct.contains("x-www-form-urlencoded") {
        mask_form(body)
    } else {
        match std::str::from_utf8(body) {
            Ok(text) => text.to_owned(),
            Err(_) => return format!("<{} bytes of binary data>", body.len()),
        }
    };
    truncate(text)
}

fn mask_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_name(key) && !v.is_null() {
                    *v = Value::String(MASK.to_owned());
                } else {
                    mask_json(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

fn mask_form(body: &[u8]) -> String {
    let pairs = url::form_urlencoded::parse(body).map(|(k, v)| {
        let v = if is_secret_name(&k) {
            MASK.to_owned()
        } else {
            v.into_owned()
        };
        (k.into_owned(), v)
    });
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_LOGGED_BODY {
        let mut cut = MAX_LOGGED_BODY;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let total = text.len();
        text.truncate(cut);
        text.push_str(&format!("… ({total} bytes)"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn secret_headers_are_masked_and_others_kept() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("Basic YWRtaW46cHc="),
        );
        h.insert("x-sn-apikey", HeaderValue::from_static("now_abc"));
        h.insert("accept", HeaderValue::from_static("application/json"));
        let mut sensitive = HeaderValue::from_static("opaque");
        sensitive.set_sensitive(true);
        h.insert("x-custom", sensitive);
        let shown = masked_headers(&h);
        let get = |n: &str| shown.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("authorization"), Some(MASK));
        assert_eq!(get("x-sn-apikey"), Some(MASK));
        assert_eq!(get("x-custom"), Some(MASK));
        assert_eq!(get("accept"), Some("application/json"));
    }

    #[test]
    fn query_secrets_are_masked() {
        let url =
            Url::parse("https://i.example/api/now/table/incident?x-sn-apikey=k1&sysparm_limit=1")
                .unwrap();
        let shown = masked_url(&url);
        assert!(!shown.contains("k1"), "{shown}");
        assert!(shown.contains("sysparm_limit=1"));
        assert!(shown.contains("x-sn-apikey=%5Bmasked%5D"));
    }

    #[test]
    fn json_and_form_bodies_are_masked_deeply() {
        let body = br#"{"access_token":"at-1","refresh_token":"rt-1","expires_in":1799,
            "nested":[{"client_secret":"cs"}],"short_description":"ok"}"#;
        let shown = masked_body(Some("application/json"), body);
        for secret in ["at-1", "rt-1", "cs"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("1799") && shown.contains("\"short_description\":\"ok\""));

        let form = b"grant_type=password&client_id=cid&client_secret=s3&username=u&password=p4ss";
        let shown = masked_body(Some("application/x-www-form-urlencoded"), form);
        assert!(!shown.contains("s3") && !shown.contains("p4ss"), "{shown}");
        assert!(shown.contains("client_id=cid") && shown.contains("username=u"));
    }

    #[test]
    fn long_and_binary_bodies_are_summarised() {
        let long = "é".repeat(MAX_LOGGED_BODY);
        let shown = masked_body(Some("text/html"), long.as_bytes());
        assert!(shown.len() < MAX_LOGGED_BODY + 40 && shown.ends_with("bytes)"));
        assert_eq!(
            masked_body(None, &[0xff, 0xfe, 0x00]),
            "<3 bytes of binary data>"
        );
        assert_eq!(masked_body(None, b""), "");
    }
}
