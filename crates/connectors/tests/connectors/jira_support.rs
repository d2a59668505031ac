//! Jira harness: clients of the emulator's seeded accounts, a project on the emulator's
//! Security workflow without required fields (`VULN`), and ticket requests for findings.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use lockstep_connectors::Credentials;
use lockstep_connectors::TicketCreate;
use lockstep_connectors::jira::{JiraAuth, JiraClient, JiraConfig, SiteUrl};
use lockstep_crypto::SecretString;
use lockstep_domain::{
    IntegrationId, MappingRules, Severity, TicketDraft, TicketMode, TicketTarget, Vendor,
};
use lockstep_itsm_sim::control::{JiraPerm, JiraProject, jira_seed};

use crate::support::{Env, finding};

/// Basic credentials of a seeded user (`<name>@example.com` / `<name>-token`).
pub fn basic(name: &str) -> Credentials {
    Credentials::Basic {
        username: format!("{name}@example.com"),
        password: SecretString::new(format!("{name}-token")),
    }
}

pub fn jira(env: &Env, credentials: &Credentials, project: Option<&str>) -> JiraClient {
    jira_with(env, credentials, project, |_| {})
}

pub fn jira_with(
    env: &Env,
    credentials: &Credentials,
    project: Option<&str>,
    tune: impl FnOnce(&mut JiraConfig),
) -> JiraClient {
    let site = SiteUrl::parse(env.sim.base_url()).expect("emulator URL");
    let mut config = JiraConfig::new(IntegrationId::new(), site);
    config.default_project = project.map(str::to_owned);
    tune(&mut config);
    JiraClient::new(
        env.exec.clone(),
        config,
        JiraAuth::from_credentials(credentials).expect("credentials"),
    )
}

/// The integration account (`lockstep@example.com`, America/New_York).
pub fn lockstep(env: &Env, project: &str) -> JiraClient {
    jira(env, &basic("lockstep"), Some(project))
}

/// Adds project `key` on the Security workflow (Open → Triaged → Closed, closing needs a
/// resolution) with every permission for the seeded lockstep and priya accounts.
pub async fn security_project(env: &Env, key: &str) {
    let all: BTreeSet<JiraPerm> = JiraPerm::ALL.into_iter().collect();
    let grants: BTreeMap<String, BTreeSet<JiraPerm>> = [jira_seed::LOCKSTEP, jira_seed::PRIYA]
        .into_iter()
        .map(|a| (a.to_owned(), all.clone()))
        .collect();
    env.sim
        .control()
        .add_jira_project(&JiraProject {
            key: key.into(),
            workflow: jira_seed::SECURITY_WORKFLOW.into(),
            grants,
            ..JiraProject::default()
        })
        .await
        .expect("project added");
}

/// The create request of a new finding in `project`, with the default Jira mapping.
pub fn ticket(project: &str, key: &str, severity: Severity, mode: TicketMode) -> TicketCreate {
    let f = finding(key, &format!("Finding {key}"), severity);
    let target = TicketTarget::parse(Vendor::Jira, project).expect("project");
    let draft = TicketDraft::build(
        &f,
        &target,
        &MappingRules::defaults(Vendor::Jira),
        &Default::default(),
        &Default::default(),
    )
    .expect("draft");
    TicketCreate {
        draft,
        finding_id: f.id,
        reference_label: format!("Lockstep {key}"),
        reporter: None,
        mode,
        labels: vec!["scanner nessus".into()],
    }
}
