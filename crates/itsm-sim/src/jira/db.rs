//! The site's in-memory store with the lookups every handler needs. Guarded by one `RwLock` in
//! [`super::Jira`], so a write and the webhook events it causes see one consistent state.

use std::collections::BTreeMap;

use super::model::{
    AdminWebhook, FieldDef, Issue, IssueType, Link, LinkType, Perm, Priority, Project, Resolution,
    Status, User, Workflow,
};

#[derive(Clone, Debug, Default)]
pub struct JiraDb {
    pub users: Vec<User>,
    pub projects: Vec<Project>,
    pub issue_types: Vec<IssueType>,
    pub priorities: Vec<Priority>,
    pub statuses: Vec<Status>,
    pub resolutions: Vec<Resolution>,
    pub workflows: BTreeMap<String, Workflow>,
    pub fields: Vec<FieldDef>,
    pub link_types: Vec<LinkType>,
    pub issues: BTreeMap<u64, Issue>,
    pub links: Vec<Link>,
    pub webhooks: Vec<AdminWebhook>,
    pub next_issue_id: u64,
    pub next_comment_id: u64,
    pub next_history_id: u64,
    pub next_link_id: u64,
    pub next_webhook_id: u64,
    pub next_project_id: u64,
    /// Sequence of emitted webhook events (for `X-Atlassian-Webhook-Identifier`).
    pub next_event: u64,
}

impl JiraDb {
    pub fn user(&self, account_id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.account_id == account_id)
    }

    pub fn project(&self, id_or_key: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| p.id == id_or_key || p.key.eq_ignore_ascii_case(id_or_key))
    }

    pub fn project_by_id(&self, id: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.id == id)
    }

    pub fn issue_type(&self, id: &str) -> Option<&IssueType> {
        self.issue_types.iter().find(|t| t.id == id)
    }

    pub fn priority(&self, id: &str) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.id == id)
    }

    pub fn status(&self, id: &str) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    pub fn resolution(&self, id: &str) -> Option<&Resolution> {
        self.resolutions.iter().find(|r| r.id == id)
    }

    pub fn field(&self, id: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.id == id)
    }

    pub fn workflow_of(&self, project_id: &str) -> Option<&Workflow> {
        let p = self.project_by_id(project_id)?;
        self.workflows.get(&p.workflow)
    }

    /// An issue by numeric id or key.
    pub fn issue_id(&self, id_or_key: &str) -> Option<u64> {
        if let Ok(id) = id_or_key.parse::<u64>() {
            return self.issues.contains_key(&id).then_some(id);
        }
        self.issues
            .values()
            .find(|i| i.key.eq_ignore_ascii_case(id_or_key))
            .map(|i| i.id)
    }

    pub fn may(&self, account_id: &str, project_id: &str, perm: Perm) -> bool {
        let Some(user) = self.user(account_id) else {
            return false;
        };
        if user.site_admin {
            return true;
        }
        let Some(p) = self.project_by_id(project_id) else {
            return false;
        };
        [account_id, "*"]
            .iter()
            .any(|who| p.grants.get(*who).is_some_and(|g| g.contains(&perm)))
    }

    pub fn issue_key_of(&self, id: u64) -> Option<&str> {
        self.issues.get(&id).map(|i| i.key.as_str())
    }
}
