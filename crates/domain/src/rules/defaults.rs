//! The default status rules per kind of ticket, and why they are what they are.
//!
//! **ServiceNow incident** (`state`): 1 New → open; 2 In Progress and 3 On Hold → in_progress
//! (someone owns the work); 4 and 5, the "Awaiting …" states of legacy instances → in_progress;
//! 6 Resolved and 7 Closed → done; 8 Canceled → neutral (a canceled incident says nothing about
//! the vulnerability). Close code "Duplicate" → neutral: the work continues in another ticket.
//!
//! **ServiceNow change_request** (`state`): -5 New → open (nobody has picked it up, like a new
//! incident); -4 Assess, -3 Authorize, -2 Scheduled, -1 Implement → in_progress (the remediation
//! is moving through change management); 0 Review → in_progress, not done, because a change under
//! review can still close unsuccessful; 3 Closed → done; 4 Canceled → neutral. Close code
//! `unsuccessful` → open: the change failed, so the vulnerability is still there and nobody is
//! working on it.
//!
//! **Jira issue**: by status category, which every workflow has, so custom statuses work without
//! configuration: `new` → open, `indeterminate` → in_progress, `done` → done. Resolutions refine
//! done: "Won't Fix", "Won't Do", "Risk Accepted" → risk_accepted; "Not a Bug", "False Positive"
//! → false_positive; "Duplicate" → neutral. "Cannot Reproduce" is deliberately left to mean plain
//! done: the fixer not seeing the flaw is not an analyst's false-positive verdict, and re-test
//! (or a rescan) is exactly the check it calls for.
//!
//! **ServiceDesk Plus request** (status names are per instance, ids too): Open → open;
//! In Progress, Assigned, On Hold → in_progress; Resolved, Closed → done; Canceled/Cancelled →
//! neutral. Statuses an admin added fall back on the status type the connector reports as the
//! category: `in_progress` → in_progress, `completed` → done.
//!
//! **Outbound**: only the finishing statuses push by default. closed resolves the ticket with a
//! "fixed" close code; risk_accepted and false_positive resolve it with a "not fixed" code (or
//! cancel a change) and say why in the notes. ServiceNow close codes are the current release's
//! ("Solution provided", "No resolution provided"); older instances use "Solved (Permanently)" and
//! friends, and ServiceNow drops an unknown code and then reports it missing, so admins of older
//! instances must edit these. Jira rules name no resolution, because a resolution that is not on
//! the transition screen makes Jira reject the transition. Reopening is not pushed by default: a
//! Closed incident or change cannot be reopened, and reopen paths differ per workflow; add a rule
//! for `open` where the workflow allows it.

use crate::label::Label;
use crate::template::Template;
use crate::ticket::TicketKind;
use crate::vocab::FindingStatus;

use super::inbound::{InboundEffect, InboundRules, ResolutionRule, StateMatch, StateRule};
use super::outbound::{OutboundRule, OutboundRules};

const OPEN: InboundEffect = InboundEffect::SetStatus(FindingStatus::Open);
const IN_PROGRESS: InboundEffect = InboundEffect::SetStatus(FindingStatus::InProgress);
const RISK_ACCEPTED: InboundEffect = InboundEffect::SetStatus(FindingStatus::RiskAccepted);
const FALSE_POSITIVE: InboundEffect = InboundEffect::SetStatus(FindingStatus::FalsePositive);
const DONE: InboundEffect = InboundEffect::Done;
const NEUTRAL: InboundEffect = InboundEffect::Neutral;

fn states(
    matcher: fn(Label) -> StateMatch,
    table: &[(&'static str, InboundEffect)],
) -> impl Iterator<Item = StateRule> {
    table.iter().map(move |(value, effect)| StateRule {
        when: matcher(Label::known(value)),
        effect: *effect,
    })
}

fn resolutions(table: &[(&'static str, InboundEffect)]) -> Vec<ResolutionRule> {
    table
        .iter()
        .map(|(name, effect)| ResolutionRule {
            resolution: Label::known(name),
            effect: *effect,
        })
        .collect()
}

fn built(states: Vec<StateRule>, resolutions: Vec<ResolutionRule>) -> InboundRules {
    match InboundRules::new(states, resolutions) {
        Ok(rules) => rules,
        Err(err) => unreachable!("built-in inbound rules are inconsistent: {err}"),
    }
}

pub(super) fn inbound(kind: TicketKind) -> InboundRules {
    match kind {
        TicketKind::ServiceNowIncident => built(
            states(
                StateMatch::Code,
                &[
                    ("1", OPEN),
                    ("2", IN_PROGRESS),
                    ("3", IN_PROGRESS),
                    ("4", IN_PROGRESS),
                    ("5", IN_PROGRESS),
                    ("6", DONE),
                    ("7", DONE),
                    ("8", NEUTRAL),
                ],
            )
            .collect(),
            resolutions(&[("Duplicate", NEUTRAL)]),
        ),
        TicketKind::ServiceNowChangeRequest => built(
            states(
                StateMatch::Code,
                &[
                    ("-5", OPEN),
                    ("-4", IN_PROGRESS),
                    ("-3", IN_PROGRESS),
                    ("-2", IN_PROGRESS),
                    ("-1", IN_PROGRESS),
                    ("0", IN_PROGRESS),
                    ("3", DONE),
                    ("4", NEUTRAL),
                ],
            )
            .collect(),
            resolutions(&[("unsuccessful", OPEN)]),
        ),
        TicketKind::JiraIssue => built(
            states(
                StateMatch::Category,
                &[
                    ("new", OPEN),
                    ("indeterminate", IN_PROGRESS),
                    ("done", DONE),
                ],
            )
            .collect(),
            resolutions(&[
                ("Won't Fix", RISK_ACCEPTED),
                ("Won't Do", RISK_ACCEPTED),
                ("Risk Accepted", RISK_ACCEPTED),
                ("Not a Bug", FALSE_POSITIVE),
                ("False Positive", FALSE_POSITIVE),
                ("Duplicate", NEUTRAL),
            ]),
        ),
        TicketKind::ManageEngineRequest => built(
            states(
                StateMatch::Name,
                &[
                    ("Open", OPEN),
                    ("In Progress", IN_PROGRESS),
                    ("Assigned", IN_PROGRESS),
                    ("On Hold", IN_PROGRESS),
                    ("Resolved", DONE),
                    ("Closed", DONE),
                    ("Canceled", NEUTRAL),
                    ("Cancelled", NEUTRAL),
                ],
            )
            .chain(states(
                StateMatch::Category,
                &[("in_progress", IN_PROGRESS), ("completed", DONE)],
            ))
            .collect(),
            Vec::new(),
        ),
    }
}

fn push(
    status: FindingStatus,
    state: &'static str,
    close_code: Option<&'static str>,
    notes: &'static str,
) -> OutboundRule {
    OutboundRule {
        status,
        state: Label::known(state),
        close_code: close_code.map(Label::known),
        close_notes: Some(Template::known(notes)),
    }
}

const FIXED_NOTES: &str = "Lockstep closed finding {key} ({title}): the issue is fixed.";
const RISK_NOTES: &str =
    "Lockstep: the risk of finding {key} ({title}) was accepted; no fix will be made.";
const FALSE_POSITIVE_NOTES: &str =
    "Lockstep: finding {key} ({title}) is a false positive; there is nothing to fix.";

pub(super) fn outbound(kind: TicketKind) -> OutboundRules {
    use FindingStatus::{Closed, FalsePositive, RiskAccepted};
    let rules = match kind {
        TicketKind::ServiceNowIncident => vec![
            push(Closed, "6", Some("Solution provided"), FIXED_NOTES),
            push(
                RiskAccepted,
                "6",
                Some("No resolution provided"),
                RISK_NOTES,
            ),
            push(
                FalsePositive,
                "6",
                Some("No resolution provided"),
                FALSE_POSITIVE_NOTES,
            ),
        ],
        TicketKind::ServiceNowChangeRequest => vec![
            push(Closed, "3", Some("successful"), FIXED_NOTES),
            push(RiskAccepted, "4", None, RISK_NOTES),
            push(FalsePositive, "4", None, FALSE_POSITIVE_NOTES),
        ],
        TicketKind::JiraIssue => vec![
            push(Closed, "Done", None, FIXED_NOTES),
            push(RiskAccepted, "Done", None, RISK_NOTES),
            push(FalsePositive, "Done", None, FALSE_POSITIVE_NOTES),
        ],
        TicketKind::ManageEngineRequest => vec![
            push(Closed, "Resolved", None, FIXED_NOTES),
            push(RiskAccepted, "Resolved", None, RISK_NOTES),
            push(FalsePositive, "Resolved", None, FALSE_POSITIVE_NOTES),
        ],
    };
    match OutboundRules::new(rules) {
        Ok(rules) => rules,
        Err(err) => unreachable!("built-in outbound rules are inconsistent: {err}"),
    }
}
