//! Scanner documents → findings: Lockstep's JSON and SARIF 2.1.0. Pure functions; every problem
//! names where it is (`findings[3].severity`, `runs[0].results[7]`) and what is accepted.
//!
//! Lockstep JSON: `{"scanner": "nessus", "findings": [{"key", "title", "severity", "description",
//! "asset", "cve", "cwe", "seen_at"}]}` or just the array. `key` is the scanner's stable id of the
//! finding (re-importing the same key updates the finding).
//!
//! SARIF: one finding per result. Key: the first partial fingerprint, else the first
//! fingerprint, else `ruleId:uri:line`. Severity: the rule's (or result's) `security-severity`
//! property (CVSS: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, > 0 low, else info), else the level
//! (error → high, warning → medium, note → low, none → info). Title: the rule's short
//! description, else the message's first line. CWE from `external/cwe/cwe-<n>` tags, CVE from a
//! `CVE-…` rule id or tag. Asset: `uri:line` of the first location.

use lockstep_domain::text::{ECHO_CHARS, excerpt, free_text};
use lockstep_domain::{Cve, Cwe, Finding, ScannerKey, Severity, Title};
use lockstep_store::NewFinding;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// At most this many problems are reported at once.
const MAX_PROBLEMS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct ImportError {
    pub problems: Vec<String>,
}

impl ImportError {
    fn one(problem: impl Into<String>) -> Self {
        Self {
            problems: vec![problem.into()],
        }
    }
}

fn text<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Parses Lockstep's JSON import format.
pub fn parse_json(
    content: &[u8],
    default_scanner: &str,
    now: OffsetDateTime,
) -> Result<Vec<NewFinding>, ImportError> {
    let doc: Value = serde_json::from_slice(content)
        .map_err(|e| ImportError::one(format!("the document is not JSON: {e}")))?;
    let (scanner, items) = match &doc {
        Value::Array(items) => (default_scanner.to_owned(), items),
        Value::Object(_) => {
            let items = doc
                .get("findings")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    ImportError::one("expected {\"findings\": [...]} or an array of findings")
                })?;
            let scanner = text(&doc, "scanner").unwrap_or(default_scanner).to_owned();
            (scanner, items)
        }
        _ => {
            return Err(ImportError::one(
                "expected {\"findings\": [...]} or an array of findings",
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match json_item(item, &scanner, now) {
            Ok(finding) => out.push(finding),
            Err(problem) => problems.push(format!("{}: {problem}", json_path(i, item))),
        }
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
    }
    finish(out, problems)
}

fn finish(out: Vec<NewFinding>, problems: Vec<String>) -> Result<Vec<NewFinding>, ImportError> {
    if !problems.is_empty() {
        return Err(ImportError { problems });
    }
    if out.is_empty() {
        return Err(ImportError::one("the document holds no findings"));
    }
    Ok(out)
}

/// Where a finding of a JSON document is: its index, and its key when it has a readable one.
fn json_path(index: usize, item: &Value) -> String {
    match text(item, "key") {
        Some(key) => format!("findings[{index}] (key {:?})", excerpt(key, ECHO_CHARS)),
        None => format!("findings[{index}]"),
    }
}

fn scanner_name(scanner: &str) -> Result<String, String> {
    let scanner = scanner.trim();
    if scanner.is_empty() {
        return Err(
            "no scanner name: set \"scanner\" in the document or pass one with the request".into(),
        );
    }
    checked("scanner", scanner, Finding::MAX_SCANNER_CHARS).map(str::to_owned)
}

/// Free text of a finding: no NUL, bounded (see `lockstep_domain::text`).
fn checked<'a>(field: &'static str, value: &'a str, max_chars: usize) -> Result<&'a str, String> {
    free_text(field, value, max_chars).map_err(|e| e.to_string())
}

fn title(value: &str) -> Result<String, String> {
    Title::parse(value)
        .map(String::from)
        .map_err(|e| e.to_string())
}

pub(crate) fn json_item(
    item: &Value,
    scanner: &str,
    now: OffsetDateTime,
) -> Result<NewFinding, String> {
    let key =
        text(item, "key").ok_or("key is required (the scanner's stable id of the finding)")?;
    let title_text = text(item, "title").ok_or("title is required")?;
    let severity: Severity = text(item, "severity")
        .ok_or("severity is required (critical, high, medium, low or info)")?
        .to_ascii_lowercase()
        .parse()
        .map_err(|e| format!("severity: {e}"))?;
    let cwe = match item.get("cwe") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(Cwe::parse(&n.to_string()).map_err(|e| e.to_string())?),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(Cwe::parse(s).map_err(|e| e.to_string())?),
        Some(_) => return Err("cwe must be a number or \"CWE-<n>\"".into()),
    };
    let seen_at = match text(item, "seen_at") {
        Some(at) => OffsetDateTime::parse(at, &Rfc3339).map_err(|_| {
            format!("seen_at {at:?} is not an RFC 3339 time such as 2026-11-23T10:00:00Z")
        })?,
        None => now,
    };
    let asset = text(item, "asset")
        .map(|a| checked("asset", a, Finding::MAX_ASSET_CHARS))
        .transpose()?;
    let description = text(item, "description").unwrap_or_default();
    Ok(NewFinding {
        scanner_key: ScannerKey::parse(key).map_err(|e| e.to_string())?,
        title: title(title_text)?,
        description: checked("description", description, Finding::MAX_DESCRIPTION_CHARS)?
            .to_owned(),
        severity,
        asset: asset.map(str::to_owned),
        cve: text(item, "cve")
            .map(Cve::parse)
            .transpose()
            .map_err(|e| e.to_string())?,
        cwe,
        scanner: scanner_name(text(item, "scanner").unwrap_or(scanner))?,
        seen_at,
    })
}

/// Parses a SARIF 2.1.0 log.
pub fn parse_sarif(
    content: &[u8],
    default_scanner: &str,
    now: OffsetDateTime,
) -> Result<Vec<NewFinding>, ImportError> {
    let doc: Value = serde_json::from_slice(content)
        .map_err(|e| ImportError::one(format!("the document is not JSON: {e}")))?;
    match text(&doc, "version") {
        Some("2.1.0") => {}
        other => {
            return Err(ImportError::one(format!(
                "expected a SARIF 2.1.0 log (\"version\": \"2.1.0\"), got version {other:?}"
            )));
        }
    }
    let runs = doc
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::one("a SARIF log needs \"runs\""))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        let driver = run.pointer("/tool/driver");
        let scanner = driver
            .and_then(|d| text(d, "name"))
            .unwrap_or(default_scanner);
        let rules: &[Value] = driver
            .and_then(|d| d.get("rules"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let results: &[Value] = run
            .get("results")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (i, result) in results.iter().enumerate() {
            match sarif_result(result, rules, scanner, now) {
                Ok(finding) => out.push(finding),
                Err(problem) => problems.push(format!("runs[{r}].results[{i}]: {problem}")),
            }
            if problems.len() >= MAX_PROBLEMS {
                return Err(ImportError { problems });
            }
        }
    }
    finish(out, problems)
}

fn sarif_rule<'a>(result: &Value, rules: &'a [Value]) -> Option<&'a Value> {
    if let Some(index) = result.get("ruleIndex").and_then(Value::as_u64) {
        return rules.get(index as usize);
    }
    let id = text(result, "ruleId")?;
    rules.iter().find(|r| text(r, "id") == Some(id))
}

fn cvss_severity(score: f64) -> Severity {
    match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        s if s > 0.0 => Severity::Low,
        _ => Severity::Info,
    }
}

fn security_severity(v: Option<&Value>) -> Option<f64> {
    let raw = v?.pointer("/properties/security-severity")?;
    raw.as_f64().or_else(|| raw.as_str()?.trim().parse().ok())
}

fn tags(v: Option<&Value>) -> Vec<String> {
    v.and_then(|v| v.pointer("/properties/tags"))
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn sarif_result(
    result: &Value,
    rules: &[Value],
    scanner: &str,
    now: OffsetDateTime,
) -> Result<NewFinding, String> {
    let rule = sarif_rule(result, rules);
    let rule_id = text(result, "ruleId").or_else(|| rule.and_then(|r| text(r, "id")));
    let message = result
        .pointer("/message/text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let level = text(result, "level")
        .or_else(|| {
            rule.and_then(|r| r.pointer("/defaultConfiguration/level"))
                .and_then(Value::as_str)
        })
        .unwrap_or("warning");
    let severity = match security_severity(Some(result)).or_else(|| security_severity(rule)) {
        Some(score) => cvss_severity(score),
        None => match level {
            "error" => Severity::High,
            "warning" => Severity::Medium,
            "note" => Severity::Low,
            "none" => Severity::Info,
            other => {
                return Err(format!(
                    "level {other:?} is not error, warning, note or none"
                ));
            }
        },
    };
    let location = result.pointer("/locations/0/physicalLocation");
    let uri = location
        .and_then(|l| l.pointer("/artifactLocation/uri"))
        .and_then(Value::as_str);
    let line = location
        .and_then(|l| l.pointer("/region/startLine"))
        .and_then(Value::as_u64);
    let asset = uri.map(|u| match line {
        Some(line) => format!("{u}:{line}"),
        None => u.to_owned(),
    });
    let first_value = |field: &str| {
        result
            .get(field)
            .and_then(Value::as_object)
            .and_then(|m| m.values().find_map(Value::as_str))
            .map(str::to_owned)
    };
    let key = first_value("partialFingerprints")
        .or_else(|| first_value("fingerprints"))
        .or_else(|| rule_id.map(|id| format!("{id}:{}", asset.as_deref().unwrap_or("-"))))
        .ok_or("the result has no ruleId and no fingerprints to key it by")?;
    let title_text = rule
        .and_then(|r| r.pointer("/shortDescription/text"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or_else(|| message.lines().next().filter(|l| !l.trim().is_empty()))
        .or(rule_id)
        .ok_or("the result has no message text and no rule to title it by")?;
    let all_tags: Vec<String> = tags(rule).into_iter().chain(tags(Some(result))).collect();
    let cwe = all_tags.iter().find_map(|t| {
        t.to_ascii_lowercase()
            .strip_prefix("external/cwe/cwe-")
            .and_then(|n| Cwe::parse(n).ok())
    });
    let cve = rule_id
        .into_iter()
        .map(str::to_owned)
        .chain(all_tags.iter().cloned())
        .find_map(|t| Cve::parse(&t).ok());
    let help = rule
        .and_then(|r| r.pointer("/fullDescription/text"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let description = [message, help]
        .iter()
        .filter(|s| !s.trim().is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n\n");
    if let Some(asset) = &asset {
        checked("asset", asset, Finding::MAX_ASSET_CHARS)?;
    }
    Ok(NewFinding {
        scanner_key: ScannerKey::parse(&key).map_err(|e| e.to_string())?,
        title: title(title_text)?,
        description: checked("description", &description, Finding::MAX_DESCRIPTION_CHARS)?
            .to_owned(),
        severity,
        asset,
        cve,
        cwe,
        scanner: scanner_name(scanner)?,
        seen_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[test]
    fn json_documents_parse_with_their_fields() {
        let doc = json!({"scanner": "nessus", "findings": [
            {"key": "NES-1", "title": "OpenSSL", "severity": "Critical", "cve": "CVE-2024-1234",
             "cwe": 79, "asset": "web-01", "seen_at": "2026-11-20T10:00:00Z"},
            {"key": "NES-2", "title": "TLS 1.0", "severity": "low", "cwe": "CWE-326"}
        ]});
        let found = parse_json(doc.to_string().as_bytes(), "", now()).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(found[0].cwe.unwrap().number(), 79);
        assert_eq!(found[0].scanner, "nessus");
        assert_eq!(found[1].cwe.unwrap().number(), 326);
        let bare = json!([{"key": "A", "title": "t", "severity": "info"}]);
        assert_eq!(
            parse_json(bare.to_string().as_bytes(), "zap", now()).unwrap()[0].scanner,
            "zap"
        );
    }

    #[test]
    fn json_problems_name_the_item_and_field() {
        let doc =
            json!({"findings": [{"key": "A", "title": "t", "severity": "urgent"}, {"title": "t"}]});
        let err = parse_json(doc.to_string().as_bytes(), "s", now()).unwrap_err();
        assert_eq!(err.problems.len(), 2);
        assert!(
            err.problems[0].starts_with("findings[0] (key \"A\"): severity"),
            "{err}"
        );
        assert!(err.problems[1].contains("key is required"), "{err}");
        assert!(parse_json(b"not json", "s", now()).is_err());
        let none =
            parse_json(json!({"findings": []}).to_string().as_bytes(), "s", now()).unwrap_err();
        assert!(none.to_string().contains("no findings"));
    }

    #[test]
    fn text_fields_refuse_nul_and_overlong_values_naming_the_finding() {
        let doc = json!([
            {"key": "OK-1", "title": "fine", "severity": "low"},
            {"key": "NUL-1", "title": "bad\u{0}title", "severity": "low"},
            {"key": "LONG-1", "title": "t".repeat(1001), "severity": "low"},
            {"key": "DESC-1", "title": "t", "severity": "low", "description": "a\u{0}b"},
            {"key": "K".repeat(100_000), "title": "t", "severity": "low"}
        ]);
        let err = parse_json(doc.to_string().as_bytes(), "s", now()).unwrap_err();
        assert_eq!(err.problems.len(), 4, "{err}");
        assert!(
            err.problems[0]
                .starts_with("findings[1] (key \"NUL-1\"): title must be text without NUL"),
            "{err}"
        );
        assert!(
            err.problems[1]
                .starts_with("findings[2] (key \"LONG-1\"): title must be at most 1000 characters"),
            "{err}"
        );
        assert!(
            err.problems[2].starts_with("findings[3] (key \"DESC-1\"): description"),
            "{err}"
        );
        assert!(
            err.problems[3].starts_with("findings[4] (key \"KKK"),
            "{err}"
        );
        assert!(
            err.problems[3].len() < 400,
            "a 100k-character key is echoed as an excerpt: {}",
            err.problems[3].len()
        );
        let sarif = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
            "results": [{"ruleId": "r", "level": "note", "message": {"text": "nul\u{0}here"}}]}]});
        let err = parse_sarif(sarif.to_string().as_bytes(), "s", now()).unwrap_err();
        assert!(
            err.to_string().starts_with("runs[0].results[0]: title"),
            "{err}"
        );
    }

    #[test]
    fn sarif_results_become_findings() {
        let doc = json!({"version": "2.1.0", "runs": [{
            "tool": {"driver": {"name": "semgrep", "rules": [
                {"id": "xss", "shortDescription": {"text": "Reflected XSS"},
                 "properties": {"security-severity": "8.1", "tags": ["security", "external/cwe/cwe-79"]}},
                {"id": "CVE-2023-4863", "properties": {}}
            ]}},
            "results": [
                {"ruleId": "xss", "level": "error", "message": {"text": "User input reaches HTML"},
                 "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app/views.py"}, "region": {"startLine": 42}}}],
                 "partialFingerprints": {"primaryLocationLineHash": "abc123"}},
                {"ruleId": "CVE-2023-4863", "ruleIndex": 1, "level": "note", "message": {"text": "libwebp heap overflow\nmore"}}
            ]
        }]});
        let found = parse_sarif(doc.to_string().as_bytes(), "", now()).unwrap();
        assert_eq!(found.len(), 2);
        let xss = &found[0];
        assert_eq!(xss.scanner_key.as_str(), "abc123");
        assert_eq!(xss.title, "Reflected XSS");
        assert_eq!(
            xss.severity,
            Severity::High,
            "security-severity 8.1 wins over the level"
        );
        assert_eq!(xss.cwe.unwrap().number(), 79);
        assert_eq!(xss.asset.as_deref(), Some("app/views.py:42"));
        assert_eq!(xss.scanner, "semgrep");
        let webp = &found[1];
        assert_eq!(webp.scanner_key.as_str(), "CVE-2023-4863:-");
        assert_eq!(webp.title, "libwebp heap overflow");
        assert_eq!(webp.severity, Severity::Low);
        assert_eq!(webp.cve.as_ref().unwrap().as_str(), "CVE-2023-4863");
    }

    #[test]
    fn sarif_version_and_levels_are_checked() {
        let err = parse_sarif(
            json!({"version": "2.0.0", "runs": []})
                .to_string()
                .as_bytes(),
            "s",
            now(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("SARIF 2.1.0"));
        let doc = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
            "results": [{"ruleId": "r", "level": "fatal", "message": {"text": "m"}}]}]});
        let err = parse_sarif(doc.to_string().as_bytes(), "s", now()).unwrap_err();
        assert!(
            err.to_string()
                .contains("runs[0].results[0]: level \"fatal\""),
            "{err}"
        );
    }
}
