//! The administration routes of the JSON API against their gRPC twins: `TokenService`
//! (`/v1/tokens`) and webhook-secret rotation (`/v1/integrations/{id}/webhook-secret`). Same
//! answers both ways, the admin role only (403 problem), another tenant's ids 404.

use lockstep_api::http as j;
use lockstep_crypto::{Aad, Purpose};
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::token_service_client::TokenServiceClient;
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use crate::http_client::{Auth, Http};
use crate::support::{Env, req};

fn v<T: Serialize>(x: T) -> Value {
    serde_json::to_value(x).unwrap()
}

/// A refusal: `status` with a problem+json body.
async fn refused(http: &Http, path: &str, token: &str, body: Option<Value>, status: StatusCode) {
    let a = match body {
        Some(body) => http.post(path, Auth::Bearer(token), body).await,
        None => http.get(path, Auth::Bearer(token)).await,
    };
    assert_eq!(a.status, status, "{path}: {}", a.text);
    a.problem_code();
}

#[tokio::test]
async fn tokens_list_and_revoke_as_over_grpc() {
    let env = Env::start().await;
    let http = Http::new(env.http);
    let mut grpc = TokenServiceClient::new(env.channel.clone());
    let admin = &env.a.admin;

    let list = grpc
        .list_tokens(req(admin, pb::ListTokensRequest {}))
        .await
        .unwrap()
        .into_inner();
    let page = http.ok("/v1/tokens", admin).await;
    assert_eq!(page, v(j::TokenList::from(list)));
    let names: Vec<&str> = page["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["a-admin", "a-analyst", "a-viewer"],
        "only tenant a's"
    );

    // Admin only; the refusal is the gRPC one as a problem.
    for weak in [&env.a.viewer, &env.a.analyst] {
        refused(&http, "/v1/tokens", weak, None, StatusCode::FORBIDDEN).await;
    }
    let analyst_id = page["tokens"][1]["id"].as_str().unwrap().to_owned();
    let revoke = format!("/v1/tokens/{analyst_id}/revoke");
    refused(
        &http,
        &revoke,
        &env.a.viewer,
        Some(json!({})),
        StatusCode::FORBIDDEN,
    )
    .await;
    // Tenant b's admin does not see tenant a's token.
    refused(
        &http,
        &revoke,
        &env.b.admin,
        Some(json!({})),
        StatusCode::NOT_FOUND,
    )
    .await;
    let unknown = format!("/v1/tokens/{}/revoke", uuid::Uuid::new_v4());
    refused(
        &http,
        &unknown,
        admin,
        Some(json!({})),
        StatusCode::NOT_FOUND,
    )
    .await;

    // The analyst's token works, then is revoked over HTTP and refused from then on.
    assert_eq!(
        http.get("/v1/findings", Auth::Bearer(&env.a.analyst))
            .await
            .status,
        StatusCode::OK
    );
    let revoked = http.ok_post(&revoke, admin, json!({})).await;
    assert!(revoked["revoke_time"].is_string(), "{revoked}");
    assert_eq!(revoked["name"], "a-analyst");
    let a = http.get("/v1/findings", Auth::Bearer(&env.a.analyst)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
    // Revoking again over gRPC keeps the first revocation: the same answer.
    let again = grpc
        .revoke_token(req(
            admin,
            pb::RevokeTokenRequest {
                token: analyst_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revoked, v(j::Token::from(again)));
    let listed = http.ok("/v1/tokens", admin).await;
    assert_eq!(listed["tokens"][1], revoked, "a revoked token stays listed");
}

#[tokio::test]
async fn webhook_secrets_rotate_and_retire_as_over_grpc() {
    let env = Env::start().await;
    let http = Http::new(env.http);
    let admin = &env.a.admin;
    let created = env.integration(admin, "sn-secrets").await;
    let id = created.id.clone();
    let rotate = format!("/v1/integrations/{id}/webhook-secret");
    let retire = format!("/v1/integrations/{id}/webhook-secret/retire");

    // Admin only; another tenant's integration does not exist; the body is checked as gRPC does.
    let body = json!({"generate": true});
    for weak in [&env.a.viewer, &env.a.analyst] {
        refused(
            &http,
            &rotate,
            weak,
            Some(body.clone()),
            StatusCode::FORBIDDEN,
        )
        .await;
        refused(&http, &retire, weak, Some(json!({})), StatusCode::FORBIDDEN).await;
    }
    refused(
        &http,
        &rotate,
        &env.b.admin,
        Some(body.clone()),
        StatusCode::NOT_FOUND,
    )
    .await;
    refused(
        &http,
        &retire,
        &env.b.admin,
        Some(json!({})),
        StatusCode::NOT_FOUND,
    )
    .await;
    for bad in [json!({}), json!({"webhook_secret": "x", "generate": true})] {
        refused(&http, &rotate, admin, Some(bad), StatusCode::BAD_REQUEST).await;
    }

    // A given secret: the answer is the gRPC answer's JSON (no secret in it).
    let given = http
        .ok_post(&rotate, admin, json!({"webhook_secret": "typed-secret"}))
        .await;
    // The integration had no secret: nothing previous to keep.
    assert_eq!(given["previous_secrets"], 0, "{given}");
    assert!(given.get("webhook_secret").is_none(), "{given}");
    let current = env
        .integrations()
        .get_integration(req(admin, pb::GetIntegrationRequest { id: id.clone() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(given["integration"], v(j::Integration::from(current)));

    // A generated secret is answered once, never cached, and is what the vendor must sign with.
    let a = http.post(&rotate, Auth::Bearer(admin), body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.headers["cache-control"], "no-store");
    let generated = a.json();
    let secret = generated["webhook_secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64, "{generated}");
    assert_eq!(
        generated["previous_secrets"], 1,
        "the typed one stays accepted"
    );
    let integration_id = lockstep_domain::IntegrationId::parse(&id).unwrap();
    let target = env
        .store()
        .integrations()
        .find_for_webhook_delivery(integration_id)
        .await
        .unwrap()
        .unwrap();
    let aad = Aad::new(env.a.id, integration_id, Purpose::WebhookSecret);
    let sealed = target.sealed_webhook_secret.as_ref().unwrap();
    let opened = crate::support::keyring().open(sealed, &aad).unwrap();
    assert_eq!(opened.expose(), secret.as_bytes());
    assert!(
        !http
            .ok(&format!("/v1/integrations/{id}"), admin)
            .await
            .to_string()
            .contains(&secret),
        "the integration never shows the secret again"
    );

    // Retire over HTTP, then over gRPC: nothing left to retire, the same answer both ways.
    let retired = http.ok_post(&retire, admin, json!({})).await;
    assert_eq!(
        (&retired["retired"], &retired["previous_secrets"]),
        (&json!(1), &json!(0))
    );
    let grpc = env
        .integrations()
        .retire_webhook_secrets(req(
            admin,
            pb::RetireWebhookSecretsRequest { id: id.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    let again = http.ok_post(&retire, admin, json!({})).await;
    assert_eq!(again, v(j::WebhookSecrets::from(grpc)));
    assert_eq!(again["retired"], 0);
}
