//! NDJSON findings (`IMPORT_FORMAT_NDJSON`): one Lockstep JSON finding object per line, read as
//! the bytes arrive, so a large scan is never held as one document. Each line is checked as it
//! completes; a problem names its line (1-based). Blank lines are skipped; `\r\n` is accepted.
//! After the first problem the findings already parsed are dropped (nothing will be written) and
//! the rest is only read through, so the sender finishes its upload and gets the answer.

use lockstep_store::NewFinding;
use serde_json::Value;
use time::OffsetDateTime;

use crate::import::{ImportError, json_item};

/// The longest line accepted: one finding, its description included, with room to spare.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// At most this many problems are reported at once.
const MAX_PROBLEMS: usize = 20;

/// Line-by-line parser fed with arbitrary slices of the stream.
pub struct Lines {
    scanner: String,
    now: OffsetDateTime,
    /// The incomplete line at the end of what was fed so far.
    carry: Vec<u8>,
    /// The current line's number (the line `carry` belongs to).
    line: usize,
    /// The current line went past [`MAX_LINE_BYTES`]: skipped up to its end.
    overlong: bool,
    findings: Vec<NewFinding>,
    problems: Vec<String>,
}

impl Lines {
    /// `scanner` names the scanner of lines that carry no `scanner` of their own.
    pub fn new(scanner: &str, now: OffsetDateTime) -> Self {
        Lines {
            scanner: scanner.to_owned(),
            now,
            carry: Vec::new(),
            line: 1,
            overlong: false,
            findings: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// The next bytes of the stream.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
            self.append(&bytes[..end]);
            self.end_line();
            bytes = &bytes[end + 1..];
        }
        self.append(bytes);
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.overlong {
            return;
        }
        if self.carry.len() + bytes.len() > MAX_LINE_BYTES {
            self.overlong = true;
            self.carry = Vec::new();
            self.problem(format!(
                "longer than {} MiB; put one finding on each line",
                MAX_LINE_BYTES >> 20
            ));
            return;
        }
        self.carry.extend_from_slice(bytes);
    }

    fn end_line(&mut self) {
        let line = std::mem::take(&mut self.carry);
        if !self.overlong && self.problems.len() < MAX_PROBLEMS {
            self.parse(&line);
        }
        self.overlong = false;
        self.line += 1;
    }

    fn parse(&mut self, line: &[u8]) {
        let line = line.trim_ascii();
        if line.is_empty() {
            return;
        }
        let item: Value = match serde_json::from_slice(line) {
            Ok(item @ Value::Object(_)) => item,
            Ok(_) => return self.problem("expected a JSON object (one finding)".to_owned()),
            Err(e) => return self.problem(format!("not JSON: {e}")),
        };
        match json_item(&item, &self.scanner, self.now) {
            Ok(finding) if self.problems.is_empty() => self.findings.push(finding),
            Ok(_) => {}
            Err(problem) => self.problem(problem),
        }
    }

    fn problem(&mut self, problem: String) {
        if self.problems.is_empty() {
            // Nothing will be written: do not hold what was parsed.
            self.findings = Vec::new();
        }
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(format!("line {}: {problem}", self.line));
        }
    }

    /// Every finding, or the problems (nothing is to be written then).
    pub fn finish(mut self) -> Result<Vec<NewFinding>, ImportError> {
        if !self.carry.is_empty() || self.overlong {
            self.end_line();
        }
        if !self.problems.is_empty() {
            return Err(ImportError {
                problems: self.problems,
            });
        }
        if self.findings.is_empty() {
            return Err(ImportError {
                problems: vec!["the stream holds no findings (one JSON object a line)".into()],
            });
        }
        Ok(self.findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn finding(key: &str) -> String {
        format!(r#"{{"key":"{key}","title":"T {key}","severity":"high"}}"#)
    }

    #[test]
    fn lines_split_anywhere_parse_alike() {
        let text = format!("{}\r\n\n{}\n{}", finding("a"), finding("b"), finding("c"));
        for step in [1, 2, 7, text.len()] {
            let mut lines = Lines::new("nessus", now());
            for piece in text.as_bytes().chunks(step) {
                lines.feed(piece);
            }
            let keys: Vec<String> = lines
                .finish()
                .unwrap()
                .iter()
                .map(|f| f.scanner_key.as_str().to_owned())
                .collect();
            assert_eq!(keys, ["a", "b", "c"], "pieces of {step} bytes");
        }
    }

    #[test]
    fn problems_name_their_line_and_nothing_is_kept() {
        let mut lines = Lines::new("nessus", now());
        let text = format!(
            "{}\n{{\"key\":\"x\",\"title\":\"t\",\"severity\":\"bad\"}}\n[1]\nnope\n{}\n",
            finding("a"),
            finding("e")
        );
        lines.feed(text.as_bytes());
        let err = lines.finish().unwrap_err();
        assert_eq!(err.problems.len(), 3, "{err}");
        assert!(err.problems[0].starts_with("line 2: severity"), "{err}");
        assert!(
            err.problems[1].starts_with("line 3: expected a JSON object"),
            "{err}"
        );
        assert!(err.problems[2].starts_with("line 4: not JSON"), "{err}");
    }

    #[test]
    fn an_overlong_line_is_refused_and_the_next_still_counted() {
        let mut lines = Lines::new("nessus", now());
        lines.feed(&vec![b' '; MAX_LINE_BYTES + 1]);
        lines.feed(b"\nnope\n");
        let err = lines.finish().unwrap_err();
        assert!(
            err.problems[0].starts_with("line 1: longer than 1 MiB"),
            "{err}"
        );
        assert!(err.problems[1].starts_with("line 2: not JSON"), "{err}");
    }

    #[test]
    fn an_empty_stream_holds_no_findings() {
        let mut lines = Lines::new("nessus", now());
        lines.feed(b"\n  \n");
        assert!(
            lines
                .finish()
                .unwrap_err()
                .to_string()
                .contains("no findings")
        );
    }
}
