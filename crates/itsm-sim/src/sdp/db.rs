//! One portal's data and its id allocation. Cloud ids are 18 digits with a separate, small
//! `display_id`; on-premises ids are small integers and `display_id` equals the id (reference B3).

use std::collections::BTreeMap;

use super::model::{Flavour, Lookup, Request, Status, Technician, Template, UdfDef};

/// The lookup kinds a request field can name with `{"name"}` or `{"id"}`.
pub const LOOKUP_KINDS: &[&str] = &[
    "priority",
    "urgency",
    "impact",
    "category",
    "group",
    "request_type",
    "mode",
    "level",
    "closure_code",
];

#[derive(Clone, Debug)]
pub struct Portal {
    pub name: String,
    pub flavour: Flavour,
    /// Only the on-premises default portal is also served at `/api/v3/` without `/app/<portal>`.
    pub default: bool,
    pub technicians: Vec<Technician>,
    pub statuses: Vec<Status>,
    pub lookups: BTreeMap<String, Vec<Lookup>>,
    pub templates: Vec<Template>,
    pub udfs: Vec<UdfDef>,
    pub requests: BTreeMap<u64, Request>,
    next_id: u64,
    next_display: u64,
    /// Cloud id prefix: ten digits followed by an eight-digit counter.
    prefix: u64,
}

impl Portal {
    pub fn new(name: &str, flavour: Flavour, default: bool, prefix: u64) -> Self {
        Self {
            name: name.into(),
            flavour,
            default,
            technicians: Vec::new(),
            statuses: Vec::new(),
            lookups: BTreeMap::new(),
            templates: Vec::new(),
            udfs: Vec::new(),
            requests: BTreeMap::new(),
            next_id: 0,
            next_display: 0,
            prefix,
        }
    }

    /// A fresh object id (requests, lookups, notes share one sequence per portal).
    pub fn alloc_id(&mut self) -> String {
        self.next_id += 1;
        match self.flavour {
            Flavour::OnPrem => self.next_id.to_string(),
            Flavour::Cloud => format!("{}{:08}", self.prefix, self.next_id * 13),
        }
    }

    /// A fresh `display_id` for a request (counts from 1 on both flavours).
    pub fn alloc_display(&mut self) -> String {
        self.next_display += 1;
        self.next_display.to_string()
    }

    pub fn request_key(id: &str) -> Option<u64> {
        id.trim().parse().ok()
    }

    pub fn request(&self, id: &str) -> Option<&Request> {
        self.requests.get(&Self::request_key(id)?)
    }

    pub fn request_mut(&mut self, id: &str) -> Option<&mut Request> {
        self.requests.get_mut(&Self::request_key(id)?)
    }

    pub fn technician(&self, id: &str) -> Option<&Technician> {
        self.technicians.iter().find(|t| t.id == id)
    }

    pub fn status(&self, id: &str) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    pub fn status_named(&self, name: &str) -> Option<&Status> {
        self.statuses
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    pub fn lookup(&self, kind: &str, id: &str) -> Option<&Lookup> {
        self.lookups.get(kind)?.iter().find(|l| l.id == id)
    }

    pub fn add_lookup(&mut self, kind: &str, name: &str) -> String {
        let id = self.alloc_id();
        self.lookups.entry(kind.into()).or_default().push(Lookup {
            id: id.clone(),
            name: name.into(),
        });
        id
    }

    pub fn add_status(&mut self, mut s: Status) -> Status {
        s.id = self.alloc_id();
        if s.internal_name.is_none() {
            s.internal_name = Some(s.name.replace(' ', ""));
        }
        self.statuses.push(s.clone());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_ids_have_eighteen_digits_and_on_prem_ids_are_small() {
        let mut cloud = Portal::new("c", Flavour::Cloud, false, 1_236_400_000);
        let id = cloud.alloc_id();
        assert_eq!(id.len(), 18, "{id}");
        assert_eq!(cloud.alloc_display(), "1");
        let mut onprem = Portal::new("o", Flavour::OnPrem, true, 0);
        assert_eq!(onprem.alloc_id(), "1");
    }
}
