//! `lockstep integrations`: create, list, get, test, rotate, delete, and webhook secret rotation
//! with overlap (`webhook-secret rotate` then, once the vendor signs with the new one,
//! `webhook-secret retire`).

use clap::{Args, Subcommand};
use lockstep_domain::Vendor;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::integration_service_client::IntegrationServiceClient;
use serde_json::{Value, json};

use crate::client::{api, req};
use crate::render::{self, Output};
use crate::{Cli, Failure, Result};

#[derive(Args, Debug, Clone)]
pub struct CredentialArgs {
    /// Basic auth user (with --password, or LOCKSTEP_SN_PASSWORD).
    #[arg(long)]
    username: Option<String>,
    #[arg(long, env = "LOCKSTEP_SN_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// OAuth client id (client credentials, or password grant with --username/--password).
    #[arg(long)]
    client_id: Option<String>,
    #[arg(long, env = "LOCKSTEP_SN_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// API key (sent in the vendor's API key header).
    #[arg(long, env = "LOCKSTEP_SN_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// OAuth refresh token from an admin's consent (Jira Cloud 3LO, ServiceDesk Plus Cloud),
    /// with --client-id/--client-secret.
    #[arg(long, env = "LOCKSTEP_OAUTH_REFRESH_TOKEN", hide_env_values = true)]
    refresh_token: Option<String>,
    /// The vendor's OAuth token endpoint, when not its default (with --refresh-token).
    #[arg(long, requires = "refresh_token")]
    token_url: Option<String>,
}

impl CredentialArgs {
    fn to_pb(&self) -> Result<pb::Credentials> {
        use pb::credentials::Kind;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        if let Some(refresh_token) = &self.refresh_token {
            return Ok(pb::Credentials {
                kind: Some(Kind::Oauth2RefreshToken(pb::OAuthRefreshToken {
                    client_id: s(&self.client_id),
                    client_secret: s(&self.client_secret),
                    refresh_token: refresh_token.clone(),
                    token_url: s(&self.token_url),
                })),
            });
        }
        let kind = match (&self.api_key, &self.client_id, &self.username) {
            (Some(key), _, _) => Kind::ApiKey(pb::ApiKeyAuth { key: key.clone() }),
            (None, Some(id), Some(user)) => Kind::Oauth2Password(pb::OAuthPassword {
                client_id: id.clone(),
                client_secret: s(&self.client_secret),
                username: user.clone(),
                password: s(&self.password),
            }),
            (None, Some(id), None) => Kind::Oauth2ClientCredentials(pb::OAuthClientCredentials {
                client_id: id.clone(),
                client_secret: s(&self.client_secret),
            }),
            (None, None, Some(user)) => Kind::Basic(pb::BasicAuth {
                username: user.clone(),
                password: s(&self.password),
            }),
            (None, None, None) => {
                return Err(Failure::usage(
                    "credentials needed: --username/--password, --client-id/--client-secret, \
                     --api-key, or --refresh-token with --client-id/--client-secret",
                ));
            }
        };
        Ok(pb::Credentials { kind: Some(kind) })
    }
}

#[derive(Subcommand, Debug)]
pub enum IntegrationsCommand {
    /// Create an integration (credentials are sealed at rest and never shown again).
    Create {
        /// servicenow, jira or manageengine (the API says which are available yet).
        #[arg(long, default_value = "servicenow")]
        vendor: Vendor,
        #[arg(long)]
        name: String,
        /// The instance or site URL, such as https://<instance>.service-now.com
        #[arg(long)]
        url: String,
        #[command(flatten)]
        credentials: CredentialArgs,
        /// Where tickets go by default: a table (incident, change_request), project or template.
        #[arg(long)]
        default_table: Option<String>,
        /// Close findings when their ticket is resolved (default: move them to re_test).
        #[arg(long)]
        auto_close_on_resolve: bool,
        /// Seconds between two polls of the vendor's change feed (at least 30; default 300).
        #[arg(long, value_name = "SECS")]
        poll_interval: Option<u32>,
        #[arg(long, env = "LOCKSTEP_WEBHOOK_SECRET", hide_env_values = true)]
        webhook_secret: Option<String>,
        /// Register the vendor's webhook back to Lockstep (Jira: an admin webhook; needs a Jira
        /// administrator account), with --webhook-secret or a generated secret. When it cannot
        /// be registered, the manual steps are printed instead.
        #[arg(long)]
        register_webhook: bool,
        /// Lockstep's public webhook base URL (default: the api's [webhooks] public_base_url).
        #[arg(long, value_name = "URL")]
        webhook_base_url: Option<String>,
        /// Makes the create idempotent (a UUID).
        #[arg(long)]
        request_id: Option<String>,
    },
    List,
    Get {
        id: String,
    },
    /// Run the connection and permission checks.
    Test {
        id: String,
    },
    /// Replace the credentials.
    Rotate {
        id: String,
        #[command(flatten)]
        credentials: CredentialArgs,
    },
    Delete {
        id: String,
    },
    /// Rotate webhook secrets without refusing deliveries.
    WebhookSecret {
        #[command(subcommand)]
        action: WebhookSecretCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum WebhookSecretCommand {
    /// Make a new secret current; the replaced one stays accepted until `retire`.
    Rotate {
        id: String,
        /// The new secret, as configured on the vendor's side.
        #[arg(
            long,
            env = "LOCKSTEP_WEBHOOK_SECRET",
            hide_env_values = true,
            required_unless_present = "generate",
            conflicts_with = "generate"
        )]
        secret: Option<String>,
        /// Let the server generate the secret; it is printed once, on standard output, and
        /// only its sealed form is kept.
        #[arg(long)]
        generate: bool,
    },
    /// Stop accepting every previous secret (once the vendor signs with the new one).
    Retire { id: String },
}

pub fn to_json(i: &pb::Integration) -> Value {
    let s = i.settings.clone().unwrap_or_default();
    json!({
        "id": i.id, "vendor": i.vendor, "name": i.name, "base_url": i.base_url, "auth_kind": i.auth_kind,
        "credentials_set": i.credentials_set, "credentials_fingerprint": i.credentials_fingerprint,
        "webhook_secret_set": i.webhook_secret_set, "active": i.active,
        "settings": {"auto_close_on_resolve": s.auto_close_on_resolve, "default_table": s.default_table,
                     "poll_interval_secs": s.poll_interval_secs, "allow_unsigned": s.allow_unsigned},
        "create_time": render::time(&i.create_time), "credentials_rotate_time": render::time(&i.credentials_rotate_time),
    })
}

/// A server-generated webhook secret, shown this once (the server keeps only its sealed form):
/// in JSON beside the integration, in a table on a line of its own after it.
fn show_generated_secret(output: Output, items: &[pb::Integration], secret: &str) {
    match output {
        Output::Json => render::json(&json!({
            "integration": items.first().map(to_json),
            "webhook_secret": secret,
        })),
        Output::Table => {
            show(output, items);
            eprintln!(
                "the new webhook secret follows; configure it on the vendor's side now: it is not shown again"
            );
            crate::outln!("{secret}");
        }
    }
}

fn show(output: Output, items: &[pb::Integration]) {
    match output {
        Output::Json => render::json(&Value::Array(items.iter().map(to_json).collect())),
        Output::Table => render::table(
            &[
                "id",
                "name",
                "vendor",
                "base_url",
                "auth",
                "credentials",
                "active",
            ],
            &items
                .iter()
                .map(|i| {
                    vec![
                        i.id.clone(),
                        i.name.clone(),
                        i.vendor.clone(),
                        i.base_url.clone(),
                        i.auth_kind.clone(),
                        format!("set ({})", i.credentials_fingerprint),
                        i.active.to_string(),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
    }
}

pub async fn run(cli: &Cli, cmd: &IntegrationsCommand) -> Result<()> {
    let mut client = IntegrationServiceClient::new(api(cli).await?);
    match cmd {
        IntegrationsCommand::Create {
            vendor,
            name,
            url,
            credentials,
            default_table,
            auto_close_on_resolve,
            poll_interval,
            webhook_secret,
            register_webhook,
            webhook_base_url,
            request_id,
        } => {
            let request = pb::CreateIntegrationRequest {
                request_id: request_id.clone().unwrap_or_default(),
                vendor: vendor.as_str().to_owned(),
                name: name.clone(),
                base_url: url.clone(),
                credentials: Some(credentials.to_pb()?),
                settings: Some(pb::IntegrationSettings {
                    auto_close_on_resolve: *auto_close_on_resolve,
                    default_table: default_table.clone().unwrap_or_default(),
                    // 0 asks the api for its default; below 30 it answers INVALID_ARGUMENT.
                    poll_interval_secs: poll_interval.unwrap_or(0),
                    ..Default::default()
                }),
                webhook_secret: webhook_secret.clone().unwrap_or_default(),
                register_webhook: *register_webhook,
                webhook_base_url: webhook_base_url.clone().unwrap_or_default(),
            };
            let created = client
                .create_integration(req(cli, request)?)
                .await?
                .into_inner();
            show(cli.output, std::slice::from_ref(&created));
            // On stderr, so `-o json` output stays one document.
            if !created.registered_webhook_id.is_empty() {
                eprintln!("webhook {} registered", created.registered_webhook_id);
            }
            if !created.webhook_setup_steps.is_empty() {
                eprintln!(
                    "The webhook back to Lockstep is not registered.\n{}",
                    created.webhook_setup_steps
                );
            }
        }
        IntegrationsCommand::List => {
            let mut all = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = client
                    .list_integrations(req(
                        cli,
                        pb::ListIntegrationsRequest {
                            page_size: 200,
                            page_token,
                        },
                    )?)
                    .await?
                    .into_inner();
                all.extend(page.integrations);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            show(cli.output, &all);
        }
        IntegrationsCommand::Get { id } => {
            let got = client
                .get_integration(req(cli, pb::GetIntegrationRequest { id: id.clone() })?)
                .await?
                .into_inner();
            show(cli.output, &[got]);
        }
        IntegrationsCommand::Test { id } => {
            let report = client
                .test_connection(req(cli, pb::TestConnectionRequest { id: id.clone() })?)
                .await?
                .into_inner();
            match cli.output {
                Output::Json => render::json(&json!({
                    "ok": report.ok, "instance": report.instance, "user_name": report.user_name,
                    "checks": report.checks.iter().map(|c| json!({"id": c.id, "title": c.title, "status": c.status,
                        "detail": c.detail, "problem": c.problem, "remedy": c.remedy})).collect::<Vec<_>>(),
                })),
                Output::Table => {
                    // Without an answer from the instance there is no user name to show.
                    let user = match report.user_name.as_str() {
                        "" => String::new(),
                        name => format!(" as {}", render::escape(name)),
                    };
                    crate::outln!(
                        "{}{user}: {}",
                        render::escape(&report.instance),
                        if report.ok { "OK" } else { "PROBLEMS FOUND" }
                    );
                    render::table(
                        &["check", "status", "detail", "remedy"],
                        &report
                            .checks
                            .iter()
                            .map(|c| {
                                vec![
                                    c.title.clone(),
                                    c.status.clone(),
                                    c.detail.clone(),
                                    c.remedy.clone(),
                                ]
                            })
                            .collect::<Vec<_>>(),
                    );
                }
            }
            if !report.ok {
                return Err(Failure {
                    code: 5,
                    message: "the connection test found problems (see the remedies)".into(),
                });
            }
        }
        IntegrationsCommand::Rotate { id, credentials } => {
            let rotated = client
                .rotate_credentials(req(
                    cli,
                    pb::RotateCredentialsRequest {
                        id: id.clone(),
                        credentials: Some(credentials.to_pb()?),
                    },
                )?)
                .await?
                .into_inner();
            show(cli.output, &[rotated]);
        }
        IntegrationsCommand::Delete { id } => {
            let answer = client
                .delete_integration(req(cli, pb::DeleteIntegrationRequest { id: id.clone() })?)
                .await?
                .into_inner();
            eprintln!("integration {id} deleted");
            if !answer.webhook_cleanup.is_empty() {
                eprintln!("{}", answer.webhook_cleanup);
            }
        }
        IntegrationsCommand::WebhookSecret { action } => {
            let answer = match action {
                WebhookSecretCommand::Rotate {
                    id,
                    secret,
                    generate,
                } => client
                    .rotate_webhook_secret(req(
                        cli,
                        pb::RotateWebhookSecretRequest {
                            id: id.clone(),
                            webhook_secret: secret.clone().unwrap_or_default(),
                            generate: *generate,
                        },
                    )?)
                    .await?
                    .into_inner(),
                WebhookSecretCommand::Retire { id } => client
                    .retire_webhook_secrets(req(
                        cli,
                        pb::RetireWebhookSecretsRequest { id: id.clone() },
                    )?)
                    .await?
                    .into_inner(),
            };
            eprintln!(
                "previous secrets still accepted: {}; retired now: {}",
                answer.previous_secrets, answer.retired
            );
            let integrations: Vec<_> = answer.integration.into_iter().collect();
            if answer.webhook_secret.is_empty() {
                show(cli.output, &integrations);
            } else {
                show_generated_secret(cli.output, &integrations, &answer.webhook_secret);
            }
        }
    }
    Ok(())
}
