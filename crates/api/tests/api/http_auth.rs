//! The HTTP API's authentication: 401 without a credential, 403 for a weak role, sign-in with
//! an API token for a session cookie (HttpOnly, SameSite=Strict, Secure when configured), CSRF
//! refusals on state-changing cookie requests, sign-out and revocation ending the session, and a
//! second tenant seeing nothing of the first.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::http_client::{Auth, Http};
use crate::support::Env;

#[tokio::test]
async fn no_credential_is_401_and_a_weak_role_is_403_with_problem_bodies() {
    let env = Env::start().await;
    let http = Http::new(env.http);
    for path in [
        "/v1/tickets",
        "/v1/findings",
        "/v1/integrations",
        "/v1/presets",
    ] {
        let a = http.get(path, Auth::None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(a.problem_code(), "UNAUTHENTICATED");
        // Security headers on every API answer, errors included.
        assert_eq!(a.headers["cache-control"], "no-store");
        assert_eq!(a.headers["x-content-type-options"], "nosniff");
        assert!(
            a.headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
    }
    // Anonymous is 401 before the body is read.
    let a = http
        .post("/v1/presets", Auth::None, json!({"name": 5}))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = http.get("/v1/tickets", Auth::Bearer("lst_nope")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // Same message as the gRPC twin.
    assert!(
        a.json()["detail"]
            .as_str()
            .unwrap()
            .contains("unknown or revoked")
    );

    let viewer = Auth::Bearer(&env.a.viewer);
    let a = http
        .post("/v1/presets", viewer.clone(), json!({"name": "p"}))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.problem_code(), "PERMISSION_DENIED");
    let a = http
        .post(
            "/v1/integrations",
            Auth::Bearer(&env.a.analyst),
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.json()["detail"].as_str().unwrap().contains("admin role"));

    // Unknown routes and methods are problems too; a bad body names what is wrong.
    let a = http.get("/v1/nope", viewer.clone()).await;
    assert_eq!(
        (a.status, a.problem_code().as_str()),
        (StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND")
    );
    let a = http
        .send(Method::PUT, "/v1/tickets", viewer.clone(), None)
        .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.problem_code(), "METHOD_NOT_ALLOWED");
    let a = http
        .post(
            "/v1/presets",
            Auth::Bearer(&env.a.analyst),
            json!({"name": 5}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.problem_code(), "BAD_REQUEST_BODY");
    let a = http.get("/v1/tickets?sla_breached=maybe", viewer).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.problem_code(), "INVALID_ARGUMENT");
}

#[tokio::test]
async fn a_session_cookie_needs_its_csrf_token_and_ends_with_sign_out() {
    let env = Env::start().await;
    let http = Http::new(env.http);
    let a = http
        .post("/v1/session", Auth::None, json!({"token": "lst_wrong"}))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.problem_code(), "UNAUTHENTICATED");

    let a = http
        .post("/v1/session", Auth::None, json!({"token": env.a.analyst}))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let (secret, cookie) = a.set_cookie();
    assert!(secret.starts_with("lss_"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP by default: {cookie}"
    );
    let session = a.json();
    assert_eq!(session["role"], "analyst");
    assert_eq!(session["tenant_id"], env.a.id.to_string());
    let csrf = session["csrf_token"].as_str().unwrap().to_owned();
    assert!(!csrf.is_empty());

    // GET needs no CSRF token and returns the same one.
    let current = http
        .get(
            "/v1/session",
            Auth::Cookie {
                secret: &secret,
                csrf: None,
            },
        )
        .await;
    assert_eq!(current.status, StatusCode::OK);
    assert_eq!(current.json()["csrf_token"], csrf.as_str());
    let list = http
        .get(
            "/v1/presets",
            Auth::Cookie {
                secret: &secret,
                csrf: None,
            },
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);

    // A state-changing request by cookie: refused without or with a wrong CSRF token.
    let body = json!({"name": "by-cookie"});
    let missing = Auth::Cookie {
        secret: &secret,
        csrf: None,
    };
    let a = http.post("/v1/presets", missing, body.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.problem_code(), "CSRF_TOKEN_MISSING");
    let wrong = Auth::Cookie {
        secret: &secret,
        csrf: Some("not-it"),
    };
    let a = http.post("/v1/presets", wrong, body.clone()).await;
    assert_eq!(a.problem_code(), "CSRF_TOKEN_INVALID");
    let good = Auth::Cookie {
        secret: &secret,
        csrf: Some(&csrf),
    };
    let a = http.post("/v1/presets", good.clone(), body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    // The activity actor is the token's name: the session acts as its token.
    assert_eq!(a.json()["name"], "by-cookie");

    // Sign-out needs the CSRF token too, ends the session server-side and clears the cookie.
    let a = http
        .send(
            Method::DELETE,
            "/v1/session",
            Auth::Cookie {
                secret: &secret,
                csrf: None,
            },
            None,
        )
        .await;
    assert_eq!(a.problem_code(), "CSRF_TOKEN_MISSING");
    let a = http.send(Method::DELETE, "/v1/session", good, None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    assert!(a.set_cookie().1.contains("Max-Age=0"));
    let a = http
        .get(
            "/v1/presets",
            Auth::Cookie {
                secret: &secret,
                csrf: None,
            },
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_the_token_ends_its_sessions_and_secure_cookies_are_marked() {
    let env = Env::start_with(|c| c.http.secure_cookies = true).await;
    let http = Http::new(env.http);
    let a = http
        .post("/v1/session", Auth::None, json!({"token": env.a.viewer}))
        .await;
    let (secret, cookie) = a.set_cookie();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let cookie_auth = Auth::Cookie {
        secret: &secret,
        csrf: None,
    };
    assert_eq!(
        http.get("/v1/tickets", cookie_auth.clone()).await.status,
        StatusCode::OK
    );
    // A session cannot be exchanged for another session.
    let a = http
        .post("/v1/session", Auth::None, json!({"token": secret}))
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let tokens = env.store().api_tokens().list(env.a.id).await.unwrap();
    let viewer = tokens.iter().find(|t| t.name == "a-viewer").unwrap();
    env.store()
        .api_tokens()
        .revoke(env.a.id, viewer.id)
        .await
        .unwrap();
    let a = http.get("/v1/tickets", cookie_auth).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(
        a.json()["detail"]
            .as_str()
            .unwrap()
            .contains("sign in again")
    );
}

#[tokio::test]
async fn a_second_tenant_sees_nothing_of_the_first() {
    let env = Env::start().await;
    let http = Http::new(env.http);
    let integration = env.integration(&env.a.admin, "sn-a").await;
    let findings = env.import(&env.a.analyst, "a", 2).await;
    let b = &env.b.admin;
    assert_eq!(
        http.ok("/v1/integrations", b).await["integrations"],
        json!([])
    );
    assert_eq!(http.ok("/v1/findings", b).await["findings"], json!([]));
    assert_eq!(http.ok("/v1/tickets", b).await["rows"], json!([]));
    for path in [
        format!("/v1/integrations/{}", integration.id),
        format!("/v1/integrations/{}/mapping", integration.id),
        format!(
            "/v1/integrations/{}/fields?container=incident",
            integration.id
        ),
        format!("/v1/findings/{}", findings[0].id),
        format!("/v1/findings/{}/activity", findings[0].id),
    ] {
        let a = http.get(&path, Auth::Bearer(b)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.text);
        assert_eq!(a.problem_code(), "NOT_FOUND");
    }
    let a = http
        .post(
            &format!("/v1/findings/{}/status", findings[0].id),
            Auth::Bearer(b),
            json!({"status": "closed"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // Tenant A still sees its own.
    let own = http.ok("/v1/findings", &env.a.viewer).await;
    assert_eq!(own["findings"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_credential() {
    let env = Env::start().await;
    let http = Http::new(env.http);
    let a = http.get("/v1/openapi.json", Auth::None).await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/v1/session",
        "/v1/tickets",
        "/v1/tickets.csv",
        "/v1/resync-all",
        "/v1/integrations/{id}/fields",
        "/v1/findings/{id}/activity",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    // Every authenticated route documents its 401 problem.
    assert!(doc["paths"]["/v1/tickets"]["get"]["responses"]["401"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // What the server parses is declared, so generated requests reach the routes' real work:
    // ids are UUIDs, times RFC 3339, closed sets enumerated.
    let id = &doc["paths"]["/v1/findings/{id}"]["get"]["parameters"][0]["schema"];
    assert_eq!(id["format"], "uuid", "{id}");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["TicketSpec"]["properties"]["integration_id"]["format"],
        "uuid"
    );
    assert_eq!(
        schemas["CreateTicketBody"]["properties"]["finding_id"]["format"],
        "uuid"
    );
    assert_eq!(
        schemas["BulkCreateBody"]["properties"]["finding_ids"]["items"]["format"],
        "uuid"
    );
    assert_eq!(
        schemas["Finding"]["properties"]["create_time"]["format"],
        "date-time"
    );
    let name = &schemas["PresetBody"]["properties"]["name"];
    assert_eq!(
        (&name["minLength"], &name["maxLength"]),
        (&json!(1), &json!(100))
    );
    let status = &schemas["SetStatusBody"]["properties"]["status"]["enum"];
    assert!(
        status.as_array().unwrap().contains(&json!("re_test")),
        "{status}"
    );
}
