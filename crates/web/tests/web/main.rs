//! The workbench router: pages answer the embedded index.html, the hashed assets it names are
//! served with a year-long cache, everything carries the strict Content-Security-Policy, and the
//! built page holds no inline script or style (so that policy can be strict).

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(path: &str) -> (StatusCode, http::HeaderMap, String) {
    let app: Router = lockstep_web::router();
    let res = app
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn assets_named(html: &str) -> Vec<String> {
    html.split(['"', '\''])
        .filter(|s| s.starts_with("/assets/"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_page_path_answers_the_app_with_the_security_headers() {
    for path in [
        "/",
        "/sign-in",
        "/tickets",
        "/findings",
        "/findings/0193-abc",
        "/integrations",
        "/integrations/x",
    ] {
        let (status, headers, body) = get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains("<div id=\"app\">"), "{path}: {body}");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{path}");
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            lockstep_web::CONTENT_SECURITY_POLICY
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    }
}

#[tokio::test]
async fn the_policy_is_strict() {
    let csp = lockstep_web::CONTENT_SECURITY_POLICY;
    assert!(csp.starts_with("default-src 'self'"));
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn the_page_has_no_inline_script_or_style_and_its_assets_are_long_cached() {
    let (_, _, html) = get("/tickets").await;
    assert!(!html.contains("<style"), "inline style element");
    assert!(!html.contains(" style="), "inline style attribute");
    assert!(!html.contains(" on"), "inline event handler");
    for script in html.split("<script").skip(1) {
        assert!(
            script
                .trim_start()
                .starts_with("type=\"module\" src=\"/assets/"),
            "inline script: {script}"
        );
    }
    let assets = assets_named(&html);
    assert_eq!(assets.len(), 3, "icon, style sheet, script: {assets:?}");
    for asset in assets {
        let (status, headers, body) = get(&asset).await;
        assert_eq!(status, StatusCode::OK, "{asset}");
        assert!(!body.is_empty());
        assert_eq!(
            headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let kind = headers[header::CONTENT_TYPE].to_str().unwrap();
        let expected = match asset.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            _ => "image/svg+xml",
        };
        assert_eq!(kind, expected, "{asset}");
    }
}

#[tokio::test]
async fn unknown_assets_and_paths_are_not_found() {
    let (status, headers, _) = get("/assets/app-NOPE.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    let (status, _, _) = get("/assets/../index.html").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get("/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
