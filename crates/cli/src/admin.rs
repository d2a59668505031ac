//! `lockstep admin`: bootstrap through the database, for a fresh install that has no token yet.
//! Needs the database URL (`--database-url`, `LOCKSTEP_DATABASE__URL` or `DATABASE_URL`).

use clap::{Args, Subcommand};
use lockstep_domain::TenantId;
use lockstep_store::{Role, Store};
use serde_json::json;

use crate::render::{self, Output};
use crate::{Failure, Result};

#[derive(Args, Debug)]
pub struct Db {
    /// PostgreSQL URL.
    #[arg(long, env = "LOCKSTEP_DATABASE__URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Apply pending database migrations.
    Migrate(Db),
    /// Create a tenant; prints its id.
    CreateTenant {
        name: String,
        #[command(flatten)]
        db: Db,
    },
    /// Create an API token for a tenant; prints the token once (only its hash is stored).
    CreateToken {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// admin, analyst or viewer.
        #[arg(long, default_value = "analyst")]
        role: String,
        #[command(flatten)]
        db: Db,
    },
    /// Migrate, create a tenant and an admin token in one go (prints `LOCKSTEP_TOKEN=…`).
    Bootstrap {
        #[arg(long, default_value = "default")]
        tenant_name: String,
        #[command(flatten)]
        db: Db,
    },
}

async fn store(db: &Db) -> Result<Store> {
    let url = db
        .database_url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .ok_or_else(|| {
            Failure::usage("no database: pass --database-url or set LOCKSTEP_DATABASE__URL")
        })?;
    Store::connect(&url, 2).await.map_err(|e| Failure {
        code: 6,
        message: format!("cannot connect to the database: {e}"),
    })
}

async fn token(store: &Store, tenant: TenantId, name: &str, role: Role) -> Result<String> {
    let token =
        lockstep_crypto::generate_token("lst_").map_err(|e| Failure::other(e.to_string()))?;
    store
        .api_tokens()
        .create(
            tenant,
            name,
            &lockstep_crypto::hash_token(token.expose()),
            role,
        )
        .await
        .map_err(|e| Failure {
            code: 3,
            message: e.to_string(),
        })?;
    Ok(token.expose().to_owned())
}

pub async fn run(cmd: &AdminCommand, output: Output) -> Result<()> {
    let db_err = |e: lockstep_store::StoreError| Failure::other(e.to_string());
    match cmd {
        AdminCommand::Migrate(db) => {
            store(db).await?.migrate().await.map_err(db_err)?;
            eprintln!("migrations applied");
        }
        AdminCommand::CreateTenant { name, db } => {
            let tenant = store(db)
                .await?
                .tenants()
                .create(name)
                .await
                .map_err(db_err)?;
            match output {
                Output::Json => {
                    render::json(&json!({"id": tenant.id.to_string(), "name": tenant.name}))
                }
                Output::Table => crate::outln!("{}", tenant.id),
            }
        }
        AdminCommand::CreateToken {
            tenant,
            name,
            role,
            db,
        } => {
            let tenant = TenantId::parse(tenant).map_err(|e| Failure::usage(e.to_string()))?;
            let role: Role = role
                .parse()
                .map_err(|e: lockstep_domain::ParseVocabError| Failure::usage(e.to_string()))?;
            let token = token(&store(db).await?, tenant, name, role).await?;
            match output {
                Output::Json => render::json(&json!({"token": token, "role": role.as_str()})),
                Output::Table => crate::outln!("{token}"),
            }
        }
        AdminCommand::Bootstrap { tenant_name, db } => {
            let store = store(db).await?;
            store.migrate().await.map_err(db_err)?;
            let tenant = store.tenants().create(tenant_name).await.map_err(db_err)?;
            let token = token(
                &store,
                tenant.id,
                &format!("{tenant_name}-admin"),
                Role::Admin,
            )
            .await?;
            match output {
                Output::Json => {
                    render::json(&json!({"tenant_id": tenant.id.to_string(), "token": token}))
                }
                Output::Table => {
                    crate::outln!("LOCKSTEP_TENANT={}", tenant.id);
                    crate::outln!("LOCKSTEP_TOKEN={token}");
                }
            }
        }
    }
    Ok(())
}
