//! Credentials for a private nats-server in operator mode (NATS decentralized auth), made here
//! without `nsc`: an operator, a system account and an application account with JetStream, and
//! one user of that account, each a JWT signed with its issuer's NKey. The user's JWT and seed
//! form the `.creds` file a service names in `nats.credentials_file`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nkeys::KeyPair;
use serde_json::{Value, json};

pub struct Credentials {
    operator_jwt: String,
    system_account: String,
    accounts: Vec<(String, String)>,
    user_jwt: String,
    user_seed: String,
}

impl Credentials {
    pub fn generate() -> Self {
        let operator = KeyPair::new_operator();
        let system = KeyPair::new_account();
        let app = KeyPair::new_account();
        let user = KeyPair::new_user();
        let operator_jwt = jwt(
            &operator,
            &operator.public_key(),
            "lockstep-test-operator",
            json!({ "type": "operator", "version": 2,
                    "system_account": system.public_key() }),
        );
        let unlimited = json!({
            "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
            "wildcards": true, "conn": -1, "leaf": -1,
            "mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1,
        });
        let system_jwt = jwt(
            &operator,
            &system.public_key(),
            "SYS",
            json!({ "type": "account", "version": 2,
                    "limits": { "subs": -1, "data": -1, "payload": -1, "imports": -1,
                                "exports": -1, "wildcards": true, "conn": -1, "leaf": -1 } }),
        );
        let app_jwt = jwt(
            &operator,
            &app.public_key(),
            "lockstep",
            json!({ "type": "account", "version": 2, "limits": unlimited }),
        );
        let user_jwt = jwt(
            &app,
            &user.public_key(),
            "lockstep-service",
            json!({ "type": "user", "version": 2, "pub": {}, "sub": {},
                    "subs": -1, "data": -1, "payload": -1 }),
        );
        Self {
            operator_jwt,
            system_account: system.public_key(),
            accounts: vec![
                (system.public_key(), system_jwt),
                (app.public_key(), app_jwt),
            ],
            user_jwt,
            user_seed: user.seed().expect("a generated key has a seed"),
        }
    }

    /// What nats-server's configuration needs: the operator, the system account and the
    /// accounts preloaded into a memory resolver.
    pub fn server_config(&self) -> String {
        let preload: String = self
            .accounts
            .iter()
            .map(|(key, jwt)| format!("  {key}: {jwt}\n"))
            .collect();
        format!(
            "operator: {}\nsystem_account: {}\nresolver: MEMORY\nresolver_preload: {{\n{preload}}}\n",
            self.operator_jwt, self.system_account
        )
    }

    /// The user's `.creds` file, in the format `nsc` writes.
    pub fn creds_file(&self) -> String {
        format!(
            "-----BEGIN NATS USER JWT-----\n{}\n------END NATS USER JWT------\n\n\
             ************************* IMPORTANT *************************\n\
             NKEY Seed printed below can be used to sign and prove identity.\n\n\
             -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n",
            self.user_jwt, self.user_seed
        )
    }
}

/// A NATS JWT (v2): `ed25519-nkey` over `header.claims`, base64url without padding.
fn jwt(issuer: &KeyPair, subject: &str, name: &str, nats: Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let claims = json!({
        "jti": uuid::Uuid::new_v4().simple().to_string().to_uppercase(),
        "iat": iat,
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{claims}");
    let signature = issuer
        .sign(signing_input.as_bytes())
        .expect("signing with a generated key");
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
