//! Text templates an admin writes for ticket summaries and close notes, such as
//! `[LOCKSTEP] {key} - {title}`. Parsed once, so a typo in a placeholder is reported when the rule
//! or preset is saved rather than when a ticket is written.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::finding::Finding;
use crate::text::{ECHO_CHARS, excerpt};

/// The finding fields a template may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder {
    Key,
    Title,
    Severity,
    Status,
    Asset,
    Cve,
    Cwe,
    Scanner,
    Id,
}

impl Placeholder {
    const ALL: [(&'static str, Placeholder); 9] = [
        ("key", Placeholder::Key),
        ("title", Placeholder::Title),
        ("severity", Placeholder::Severity),
        ("status", Placeholder::Status),
        ("asset", Placeholder::Asset),
        ("cve", Placeholder::Cve),
        ("cwe", Placeholder::Cwe),
        ("scanner", Placeholder::Scanner),
        ("id", Placeholder::Id),
    ];
    const NAMES: &'static str =
        "{key} {title} {severity} {status} {asset} {cve} {cwe} {scanner} {id}";

    fn named(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, placeholder)| *placeholder)
    }

    /// Appends the finding's value; an absent optional field renders as nothing.
    fn render(self, finding: &Finding, out: &mut String) {
        match self {
            Placeholder::Key => out.push_str(finding.scanner_key.as_str()),
            Placeholder::Title => out.push_str(&finding.title),
            Placeholder::Severity => out.push_str(finding.severity.as_str()),
            Placeholder::Status => out.push_str(finding.status.as_str()),
            Placeholder::Asset => out.push_str(finding.asset.as_deref().unwrap_or_default()),
            Placeholder::Cve => out.push_str(finding.cve.as_ref().map_or("", |cve| cve.as_str())),
            Placeholder::Cwe => {
                if let Some(cwe) = finding.cwe {
                    out.push_str(&cwe.to_string());
                }
            }
            Placeholder::Scanner => out.push_str(&finding.scanner),
            Placeholder::Id => out.push_str(&finding.id.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Placeholder),
}

/// A parsed template. `{name}` inserts a finding field (see [`Template::PLACEHOLDERS`]); `{{` and
/// `}}` are literal braces.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

impl Template {
    /// The placeholders a template may use.
    pub const PLACEHOLDERS: &'static str = Placeholder::NAMES;

    pub fn parse(source: &str) -> Result<Self, DomainError> {
        let fail = |problem: String| DomainError::InvalidTemplate {
            template: excerpt(source, ECHO_CHARS),
            problem,
        };
        if source.trim().is_empty() {
            return Err(fail("is blank; write some text".to_owned()));
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = source.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => {
                                return Err(fail(format!(
                                    "opens {{{name} without closing it; write {{{{ for a literal brace"
                                )));
                            }
                        }
                    }
                    let placeholder = Placeholder::named(name.trim()).ok_or_else(|| {
                        fail(format!(
                            "uses unknown placeholder {{{name}}}; use one of {}",
                            Placeholder::NAMES
                        ))
                    })?;
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Field(placeholder));
                }
                '}' => {
                    return Err(fail(
                        "has a lone }; write }} for a literal brace".to_owned(),
                    ));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// A template written in this crate's source (defaults). Checked in debug builds and tests.
    pub(crate) fn known(source: &'static str) -> Self {
        match Self::parse(source) {
            Ok(template) => template,
            Err(err) => unreachable!("bad built-in template: {err}"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn render(&self, finding: &Finding) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(placeholder) => placeholder.render(finding, &mut out),
            }
        }
        out
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Template {}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Template").field(&self.source).finish()
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl TryFrom<String> for Template {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Template> for String {
    fn from(template: Template) -> String {
        template.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::fixtures::finding;

    #[test]
    fn placeholders_render_finding_fields() {
        let finding = finding();
        let template =
            Template::parse("[LOCKSTEP] {key} - {title} ({cve}, {cwe}, {severity})").unwrap();
        assert_eq!(
            template.render(&finding),
            "[LOCKSTEP] NES-19506 - OpenSSL 3.0 < 3.0.7 buffer overflow (CVE-2022-3602, CWE-787, high)"
        );
    }

    #[test]
    fn absent_fields_render_empty_and_braces_escape() {
        let mut finding = finding();
        finding.cve = None;
        let template = Template::parse("{{cve}}={cve};").unwrap();
        assert_eq!(template.render(&finding), "{cve}=;");
    }

    #[test]
    fn mistakes_are_reported_with_the_fix() {
        let err = Template::parse("{key} {tittle}").unwrap_err().to_string();
        assert!(err.contains("unknown placeholder {tittle}"), "{err}");
        assert!(err.contains("{title}"), "{err}");
        assert!(
            Template::parse("{key")
                .unwrap_err()
                .to_string()
                .contains("without closing")
        );
        assert!(Template::parse("a } b").is_err());
        assert!(Template::parse("  ").is_err());
    }

    #[test]
    fn serde_keeps_the_source_text() {
        let template: Template = serde_json::from_str("\"{key}: {title}\"").unwrap();
        assert_eq!(
            serde_json::to_string(&template).unwrap(),
            "\"{key}: {title}\""
        );
        assert!(serde_json::from_str::<Template>("\"{nope}\"").is_err());
    }
}
