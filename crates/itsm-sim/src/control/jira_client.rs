//! Jira part of the typed control client (`/_sim/jira/…`).

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Result, SimClient};
use crate::jira::JiraSettings;
use crate::jira::control::{CodeRequest, JiraAct};
use crate::jira::model::{Issue, Project, User, Workflow};
use crate::jira::ratelimit::JiraRateLimit;

#[derive(Deserialize)]
struct Code {
    code: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ActResult {
    pub status: u16,
    pub body: Option<Value>,
}

impl SimClient {
    pub async fn jira_settings(&self) -> Result<JiraSettings> {
        self.json(self.http.get(self.url("/_sim/jira/settings")))
            .await
    }

    /// Changes only the given settings, e.g. `json!({"transition_latency_ms": 200})`.
    pub async fn patch_jira_settings(&self, patch: Value) -> Result<JiraSettings> {
        self.json(
            self.http
                .patch(self.url("/_sim/jira/settings"))
                .json(&patch),
        )
        .await
    }

    /// Of the bulk-create elements processed from now on, every `every`-th fails until
    /// `remaining` have failed.
    pub async fn fail_jira_bulk(&self, remaining: u32, every: u32) -> Result<JiraSettings> {
        self.patch_jira_settings(
            json!({"bulk_fail_remaining": remaining, "bulk_fail_every": every}),
        )
        .await
    }

    pub async fn set_jira_rate_limits(
        &self,
        rules: &[JiraRateLimit],
    ) -> Result<Vec<JiraRateLimit>> {
        self.json(
            self.http
                .put(self.url("/_sim/jira/rate-limits"))
                .json(rules),
        )
        .await
    }

    pub async fn add_jira_users(&self, users: &[User]) -> Result<Vec<User>> {
        self.json(self.http.post(self.url("/_sim/jira/users")).json(users))
            .await
    }

    /// A new project (its id is assigned and returned).
    pub async fn add_jira_project(&self, project: &Project) -> Result<Project> {
        self.json(
            self.http
                .post(self.url("/_sim/jira/projects"))
                .json(project),
        )
        .await
    }

    pub async fn put_jira_workflow(&self, workflow: &Workflow) -> Result<Workflow> {
        let url = self.url(&format!("/_sim/jira/workflows/{}", workflow.name));
        self.json(self.http.put(url).json(workflow)).await
    }

    pub async fn set_jira_project_workflow(&self, key: &str, workflow: &str) -> Result<Project> {
        let url = self.url(&format!("/_sim/jira/projects/{key}/workflow"));
        self.json(self.http.put(url).json(&json!({"workflow": workflow})))
            .await
    }

    /// An OAuth 2.0 (3LO) authorization code, as if `account_id` had consented to `scopes`.
    pub async fn jira_oauth_code(
        &self,
        client_id: &str,
        account_id: &str,
        scopes: &[&str],
    ) -> Result<String> {
        let req = CodeRequest {
            client_id: client_id.into(),
            account_id: account_id.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        };
        let c: Code = self
            .json(
                self.http
                    .post(self.url("/_sim/jira/oauth/codes"))
                    .json(&req),
            )
            .await?;
        Ok(c.code)
    }

    /// Marks a transition as in progress on the issue: transitions answer 409 until released.
    pub async fn hold_jira_transition(&self, key: &str) -> Result<()> {
        let url = self.url(&format!("/_sim/jira/issues/{key}/hold-transition"));
        self.send(self.http.post(url)).await.map(drop)
    }

    pub async fn release_jira_transition(&self, key: &str) -> Result<()> {
        let url = self.url(&format!("/_sim/jira/issues/{key}/hold-transition"));
        self.send(self.http.delete(url)).await.map(drop)
    }

    /// The stored issue (key or id), for assertions.
    pub async fn jira_issue(&self, key: &str) -> Result<Issue> {
        self.json(self.http.get(self.url(&format!("/_sim/jira/issues/{key}"))))
            .await
    }

    /// A REST v3 call made as a user (a person working in Jira): webhooks fire as for anyone.
    pub async fn jira_act(&self, act: &JiraAct) -> Result<ActResult> {
        self.json(self.http.post(self.url("/_sim/jira/act")).json(act))
            .await
    }

    /// Performs one transition (by id) as `account_id`, with transition-screen `fields`.
    pub async fn jira_transition(
        &self,
        account_id: &str,
        key: &str,
        transition_id: &str,
        fields: Value,
    ) -> Result<ActResult> {
        self.jira_act(&JiraAct {
            account_id: account_id.into(),
            method: "POST".into(),
            path: format!("issue/{key}/transitions"),
            body: Some(json!({"transition": {"id": transition_id}, "fields": fields})),
            ..JiraAct::default()
        })
        .await
    }
}
