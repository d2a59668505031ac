//! `lockstep tokens`: the tenant's API tokens, listed and revoked (admin token). New tokens come
//! from `lockstep admin create-token`.

use clap::Subcommand;
use lockstep_proto::v1 as pb;
use lockstep_proto::v1::token_service_client::TokenServiceClient;
use serde_json::{Value, json};

use crate::client::{api, req};
use crate::render::{self, Output};
use crate::{Cli, Result};

#[derive(Subcommand, Debug)]
pub enum TokensCommand {
    /// Every token of the tenant, revoked ones included (never their secrets).
    List,
    /// Revoke a token by id or by name; it is refused from then on.
    // Not called `token`: that is the global `--token` argument's id.
    Revoke { id_or_name: String },
}

fn show(output: Output, tokens: &[pb::Token]) {
    match output {
        Output::Json => render::json(&Value::Array(
            tokens
                .iter()
                .map(|t| {
                    json!({"id": t.id, "name": t.name, "role": t.role,
                           "create_time": render::time(&t.create_time),
                           "last_use_time": render::time(&t.last_use_time),
                           "revoke_time": render::time(&t.revoke_time)})
                })
                .collect(),
        )),
        Output::Table => render::table(
            &["id", "name", "role", "created", "last used", "revoked"],
            &tokens
                .iter()
                .map(|t| {
                    vec![
                        t.id.clone(),
                        t.name.clone(),
                        t.role.clone(),
                        render::time(&t.create_time),
                        render::time(&t.last_use_time),
                        render::time(&t.revoke_time),
                    ]
                })
                .collect::<Vec<_>>(),
        ),
    }
}

pub async fn run(cli: &Cli, cmd: &TokensCommand) -> Result<()> {
    let mut client = TokenServiceClient::new(api(cli).await?);
    match cmd {
        TokensCommand::List => {
            let listed = client
                .list_tokens(req(cli, pb::ListTokensRequest {})?)
                .await?
                .into_inner();
            show(cli.output, &listed.tokens);
        }
        TokensCommand::Revoke { id_or_name } => {
            let revoked = client
                .revoke_token(req(
                    cli,
                    pb::RevokeTokenRequest {
                        token: id_or_name.clone(),
                    },
                )?)
                .await?
                .into_inner();
            show(cli.output, &[revoked]);
        }
    }
    Ok(())
}
