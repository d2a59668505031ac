//! The instance's valid values for the fields Lockstep's mapping rules set (impact, urgency,
//! category, state, close code), read from `sys_choice` so rules can be checked against the real
//! instance before a ticket is written with a value ServiceNow would silently drop.
//!
//! Choices of fields defined on `task` (impact, urgency, sometimes state) may sit under
//! `name=task`; rows of the ticket's own table win per field, because values collide across
//! classes (state 3 is On Hold on incident, Closed Complete on task).
//!
//! Non-admin accounts often may read only `label` of `sys_choice`, and filtering by `name` or
//! `element` is refused ("Field(s) present in the query do not have permission to be read"). Then
//! the reference's first fallback is used: read recent tickets with `sysparm_display_value=all`,
//! which gives value and label of every value in use. That list is partial, so
//! [`InstanceChoices::is_valid`] answers `None` ("unknown") for values it has not seen.

use std::collections::BTreeMap;

use lockstep_domain::ServiceNowTable;

use super::client::ServiceNowClient;
use super::list::{ListQuery, in_list};
use crate::error::{ConnectorError, Result};

/// The fields whose choices are read.
pub const CHOICE_ELEMENTS: &[&str] = &["impact", "urgency", "category", "state", "close_code"];

/// Tickets sampled by the display-value fallback.
const SAMPLE_SIZE: usize = 500;

pub use crate::connector::Choice;

/// Where the choices came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChoiceSource {
    /// `sys_choice`: the complete lists.
    SysChoice,
    /// `sys_choice` was not readable; values seen on recent tickets (partial).
    TicketSample,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceChoices {
    pub table: ServiceNowTable,
    pub source: ChoiceSource,
    /// Field → choices, ordered by sequence then value.
    pub fields: BTreeMap<String, Vec<Choice>>,
    /// Why the fallback was used, when it was.
    pub fallback_reason: Option<String>,
}

impl InstanceChoices {
    pub fn choices(&self, element: &str) -> &[Choice] {
        self.fields.get(element).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `Some(true)`/`Some(false)` when the value is known valid/invalid; `None` when the lists
    /// are partial (fallback) and the value was not seen.
    pub fn is_valid(&self, element: &str, value: &str) -> Option<bool> {
        let found = self
            .choices(element)
            .iter()
            .any(|c| c.value == value.trim());
        match (found, self.source) {
            (true, _) => Some(true),
            (false, ChoiceSource::SysChoice) => Some(false),
            (false, ChoiceSource::TicketSample) => None,
        }
    }

    /// The label of a value, e.g. `6` → `Resolved` for incident state.
    pub fn label(&self, element: &str, value: &str) -> Option<&str> {
        self.choices(element)
            .iter()
            .find(|c| c.value == value.trim())
            .map(|c| c.label.as_str())
    }
}

impl ServiceNowClient {
    /// The valid impact, urgency, category, state and close code values of `table`.
    pub async fn read_choices(&self, table: ServiceNowTable) -> Result<InstanceChoices> {
        match self.read_sys_choice(table).await {
            Ok(Some(fields)) => Ok(InstanceChoices {
                table,
                source: ChoiceSource::SysChoice,
                fields,
                fallback_reason: None,
            }),
            Ok(None) => {
                self.sample_choices(
                    table,
                    "sys_choice rows come back without values (label-only access)".into(),
                )
                .await
            }
            Err(ConnectorError::Permission { message, .. }) => {
                self.sample_choices(table, message).await
            }
            Err(e) => Err(e),
        }
    }

    /// `None` when the rows are readable but carry no values (label-only access).
    async fn read_sys_choice(
        &self,
        table: ServiceNowTable,
    ) -> Result<Option<BTreeMap<String, Vec<Choice>>>> {
        let query = ListQuery {
            op: "read_sys_choice",
            table: "sys_choice".into(),
            query: format!(
                "nameIN{},task^elementIN{}^inactive=false^language=en^ORDERBYname^ORDERBYelement^ORDERBYsequence^ORDERBYsys_id",
                table.as_str(),
                in_list(CHOICE_ELEMENTS.iter().copied())
            ),
            fields: Some("name,element,value,label,sequence".into()),
            display_value: "false",
            page_size: 500,
            max_rows: 20_000,
        };
        let rows = self.list_all(&query).await?.rows;
        if !rows.is_empty()
            && rows
                .iter()
                .all(|r| r.value("value").is_none() || r.value("element").is_none())
        {
            return Ok(None);
        }
        // element → (table rows, task rows)
        let mut split: BTreeMap<String, (Vec<Choice>, Vec<Choice>)> = BTreeMap::new();
        for r in &rows {
            let (Some(element), Some(value)) = (r.value("element"), r.value("value")) else {
                continue;
            };
            let choice = Choice {
                value: value.to_owned(),
                label: r.value("label").unwrap_or(value).to_owned(),
                sequence: r.value("sequence").and_then(|s| s.parse().ok()),
            };
            let entry = split.entry(element.to_owned()).or_default();
            if r.value("name") == Some(table.as_str()) {
                entry.0.push(choice);
            } else {
                entry.1.push(choice);
            }
        }
        let fields = split
            .into_iter()
            .map(|(element, (own, task))| {
                let mut list = if own.is_empty() { task } else { own };
                sort(&mut list);
                list.dedup_by(|a, b| a.value == b.value);
                (element, list)
            })
            .collect();
        Ok(Some(fields))
    }

    async fn sample_choices(
        &self,
        table: ServiceNowTable,
        reason: String,
    ) -> Result<InstanceChoices> {
        tracing::info!(table = table.as_str(), %reason, "sys_choice not usable; reading values from recent tickets");
        let query = ListQuery {
            op: "sample_choices",
            table: table.as_str().into(),
            query: "ORDERBYDESCsys_updated_on^ORDERBYsys_id".into(),
            fields: Some(CHOICE_ELEMENTS.join(",")),
            display_value: "all",
            page_size: 250,
            max_rows: SAMPLE_SIZE,
        };
        let rows = self.list_all(&query).await?.rows;
        let mut fields: BTreeMap<String, Vec<Choice>> = BTreeMap::new();
        for r in &rows {
            for element in CHOICE_ELEMENTS {
                let Some(value) = r.value(element) else {
                    continue;
                };
                let list = fields.entry((*element).to_owned()).or_default();
                if !list.iter().any(|c| c.value == value) {
                    let label = r.display(element).unwrap_or(value).to_owned();
                    list.push(Choice {
                        value: value.to_owned(),
                        label,
                        sequence: None,
                    });
                }
            }
        }
        fields.values_mut().for_each(|list| sort(list));
        Ok(InstanceChoices {
            table,
            source: ChoiceSource::TicketSample,
            fields,
            fallback_reason: Some(reason),
        })
    }
}

fn sort(list: &mut [Choice]) {
    list.sort_by(|a, b| {
        a.sequence
            .unwrap_or(i64::MAX)
            .cmp(&b.sequence.unwrap_or(i64::MAX))
            .then_with(|| numeric_first(&a.value, &b.value))
    });
}

fn numeric_first(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(value: &str, label: &str, sequence: Option<i64>) -> Choice {
        Choice {
            value: value.into(),
            label: label.into(),
            sequence,
        }
    }

    #[test]
    fn validity_is_unknown_only_for_partial_lists() {
        let mut choices = InstanceChoices {
            table: ServiceNowTable::Incident,
            source: ChoiceSource::SysChoice,
            fields: BTreeMap::from([(
                "state".to_owned(),
                vec![c("1", "New", Some(1)), c("6", "Resolved", Some(6))],
            )]),
            fallback_reason: None,
        };
        assert_eq!(choices.is_valid("state", "6"), Some(true));
        assert_eq!(choices.is_valid("state", "4"), Some(false));
        assert_eq!(choices.label("state", " 6 "), Some("Resolved"));
        choices.source = ChoiceSource::TicketSample;
        assert_eq!(choices.is_valid("state", "4"), None);
        assert_eq!(choices.is_valid("state", "1"), Some(true));
    }

    #[test]
    fn sorting_uses_sequence_then_numeric_value() {
        let mut list = vec![
            c("10", "ten", None),
            c("-5", "New", None),
            c("2", "two", None),
            c("z", "z", Some(0)),
        ];
        sort(&mut list);
        let values: Vec<_> = list.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(values, ["z", "-5", "2", "10"]);
    }
}
