//! The pure part of moving an issue through its workflow (reference A6): a status is reached only
//! by transitions, transition ids are per workflow, and Jira only lists the transitions available
//! from the issue's current status. So the path is searched step by step: each step picks, from
//! what `GET …/transitions` offers, a transition into the target, else one that moves closer to
//! the target's status category without revisiting a status. No step ever moves away from the
//! target, so a failed search leaves the issue no further from it than it was.

use serde_json::Value;

/// A status as Jira shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRef {
    pub id: String,
    pub name: String,
    /// `new`, `indeterminate`, `done` (or `undefined`).
    pub category: String,
}

/// One available transition, with what its screen requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub name: String,
    pub to: StatusRef,
    /// The screen requires a resolution; these are the names it accepts.
    pub resolution: Option<Vec<String>>,
}

/// Where a push wants the issue: a status name, or a status category (key or name, as the
/// default outbound rules say "Done" and a workflow may call its done status "Closed").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal {
    pub name: String,
    /// The category of the goal: the category of the project status of that name, else the
    /// category the name itself denotes.
    pub category: Option<String>,
}

fn rank(category: &str) -> Option<i32> {
    match category.to_ascii_lowercase().as_str() {
        "new" | "to do" => Some(0),
        "indeterminate" | "in progress" => Some(1),
        "done" => Some(2),
        _ => None,
    }
}

impl Goal {
    /// `statuses` are the project's (name, category key) pairs.
    pub fn new(name: &str, statuses: &[(String, String)]) -> Self {
        let by_status = statuses
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, c)| c.clone());
        let by_category =
            rank(name).map(|r| ["new", "indeterminate", "done"][r as usize].to_owned());
        Self {
            name: name.trim().to_owned(),
            category: by_status.or(by_category),
        }
    }

    /// Whether the project has a status of that name, or the name is a category.
    pub fn known(&self) -> bool {
        self.category.is_some()
    }

    /// Reached: the status has the goal's name, or the goal names a category and the status is
    /// in it.
    pub fn reached_by(&self, status: &StatusRef) -> bool {
        status.name.eq_ignore_ascii_case(&self.name)
            || (rank(&self.name).is_some()
                && self.category.as_deref() == Some(status.category.as_str()))
    }

    fn distance(&self, status: &StatusRef) -> Option<i32> {
        let goal = rank(self.category.as_deref()?)?;
        Some((rank(&status.category)? - goal).abs())
    }
}

/// The next transition towards `goal` from `current`, avoiding the `visited` statuses. An exact
/// status name wins over a category match; otherwise the step that ends closest to the goal's
/// category, never one that ends further away than `current`.
pub fn next_step<'a>(
    goal: &Goal,
    current: &StatusRef,
    available: &'a [Step],
    visited: &[String],
) -> Option<&'a Step> {
    let fresh = |s: &&Step| !visited.contains(&s.to.id) && s.to.id != current.id;
    if let Some(s) = available
        .iter()
        .find(|s| s.to.name.eq_ignore_ascii_case(&goal.name))
    {
        return Some(s);
    }
    if let Some(s) = available
        .iter()
        .filter(fresh)
        .find(|s| goal.reached_by(&s.to))
    {
        return Some(s);
    }
    let here = goal.distance(current)?;
    available
        .iter()
        .filter(fresh)
        .filter_map(|s| goal.distance(&s.to).map(|d| (d, s)))
        .filter(|(d, _)| *d <= here)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

/// The resolution to send with a step whose screen requires one: the rule's close code when the
/// screen offers it, else "Done", else the first offered.
pub fn resolution_for(step: &Step, wanted: Option<&str>) -> Option<String> {
    let offered = step.resolution.as_ref()?;
    let pick = |name: &str| {
        offered
            .iter()
            .find(|o| o.eq_ignore_ascii_case(name))
            .cloned()
    };
    wanted
        .and_then(pick)
        .or_else(|| pick("Done"))
        .or_else(|| offered.first().cloned())
}

pub(crate) fn status_from_json(v: &Value) -> Option<StatusRef> {
    Some(StatusRef {
        id: super::issue::id_at(v, "/id")?,
        name: v.get("name")?.as_str()?.to_owned(),
        category: v
            .pointer("/statusCategory/key")
            .and_then(Value::as_str)
            .unwrap_or("undefined")
            .to_owned(),
    })
}

/// The transitions of a `GET …/transitions?expand=transitions.fields` answer.
pub fn steps_from_json(body: &Value) -> Vec<Step> {
    body.get("transitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let resolution = t
                .pointer("/fields/resolution")
                .filter(|r| r.get("required").and_then(Value::as_bool) == Some(true))
                .map(|r| {
                    r.get("allowedValues")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a.get("name").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                });
            Some(Step {
                id: super::issue::id_at(t, "/id")?,
                name: t
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                to: status_from_json(t.get("to")?)?,
                resolution,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(id: &str, name: &str, category: &str) -> StatusRef {
        StatusRef {
            id: id.into(),
            name: name.into(),
            category: category.into(),
        }
    }

    fn step(id: &str, to: StatusRef) -> Step {
        Step {
            id: id.into(),
            name: format!("to {}", to.name),
            to,
            resolution: None,
        }
    }

    /// The emulator's Security workflow: Open → Triaged → Closed.
    fn security() -> Vec<(String, String)> {
        [
            ("Open", "new"),
            ("Triaged", "indeterminate"),
            ("Closed", "done"),
        ]
        .map(|(n, c)| (n.to_owned(), c.to_owned()))
        .to_vec()
    }

    #[test]
    fn done_two_hops_away_is_reached_through_the_middle_status() {
        let goal = Goal::new("Done", &security());
        assert_eq!(goal.category.as_deref(), Some("done"));
        let open = status("1", "Open", "new");
        let triaged = status("10002", "Triaged", "indeterminate");
        let closed = status("6", "Closed", "done");
        let from_open = [step("11", triaged.clone())];
        let first = next_step(&goal, &open, &from_open, &[]).unwrap();
        assert_eq!(first.id, "11");
        let from_triaged = [step("41", open.clone()), step("21", closed.clone())];
        let second = next_step(&goal, &triaged, &from_triaged, &["1".into()]).unwrap();
        assert_eq!(second.id, "21");
        assert!(goal.reached_by(&closed));
    }

    #[test]
    fn no_step_moves_away_from_the_goal_or_back_to_a_visited_status() {
        let goal = Goal::new("Done", &security());
        let triaged = status("10002", "Triaged", "indeterminate");
        let only_back = [step("41", status("1", "Open", "new"))];
        assert_eq!(next_step(&goal, &triaged, &only_back, &[]), None);
        let reopen = Goal::new("Open", &security());
        let closed = status("6", "Closed", "done");
        let from_closed = [step("31", status("1", "Open", "new"))];
        assert_eq!(
            next_step(&reopen, &closed, &from_closed, &[]).unwrap().id,
            "31"
        );
        assert!(!Goal::new("Nowhere", &security()).known());
    }

    #[test]
    fn an_exact_status_name_wins_and_resolutions_follow_the_rule() {
        let statuses = vec![
            ("Done".to_owned(), "done".to_owned()),
            ("Won't fix".to_owned(), "done".to_owned()),
        ];
        let goal = Goal::new("Done", &statuses);
        let here = status("3", "In Progress", "indeterminate");
        let mut wont = step("51", status("9", "Won't fix", "done"));
        wont.resolution = Some(vec!["Won't Do".into(), "Done".into()]);
        let done = step("31", status("10001", "Done", "done"));
        let steps = [wont.clone(), done];
        assert_eq!(next_step(&goal, &here, &steps, &[]).unwrap().id, "31");
        assert_eq!(
            resolution_for(&wont, Some("won't do")).as_deref(),
            Some("Won't Do")
        );
        assert_eq!(
            resolution_for(&wont, Some("Fixed")).as_deref(),
            Some("Done")
        );
        assert_eq!(resolution_for(&steps[1], Some("Fixed")), None);
    }

    #[test]
    fn transitions_parse_with_their_required_resolution() {
        let body = json!({"transitions": [
            {"id": "21", "name": "Resolve", "to": {"id": "6", "name": "Closed",
              "statusCategory": {"key": "done"}},
             "fields": {"resolution": {"required": true,
               "allowedValues": [{"id": "1", "name": "Done"}, {"id": "2", "name": "Won't Do"}]}}},
            {"id": "41", "name": "Back", "to": {"id": "1", "name": "Open",
              "statusCategory": {"key": "new"}}, "fields": {}}]});
        let steps = steps_from_json(&body);
        assert_eq!(steps.len(), 2);
        assert_eq!(
            steps[0].resolution.as_deref(),
            Some(&["Done".to_owned(), "Won't Do".to_owned()][..])
        );
        assert_eq!(steps[1].resolution, None);
        assert_eq!(steps[1].to.category, "new");
    }
}
