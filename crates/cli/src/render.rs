//! Output: `--output table` (aligned columns for people) or `--output json` (one JSON document
//! on stdout for scripts; field names follow the API's proto field names).
//!
//! Everything goes to stdout through [`out`]: when the reader goes away (`lockstep … | head`),
//! the command ends quietly with exit code 0 instead of panicking. Text from the server (scan
//! data, vendor text) is printed in tables through [`escape`], so a title holding ESC, BEL, CR or
//! LF cannot rewrite the operator's terminal; JSON output carries it exactly (JSON escapes
//! control characters itself).

use std::borrow::Cow;
use std::io::Write;

use serde_json::Value;

/// Writes one line to stdout. A closed pipe ends the process quietly (exit 0: the reader has
/// all it wanted); any other write failure ends it with exit 1 and the reason on stderr.
pub fn out(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let written = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: cannot write the output: {e}");
            std::process::exit(1);
        }
    }
}

/// `println!` through [`out`].
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::render::out(&format!($($arg)*))
    };
}

/// Whether `c` must not reach a terminal as is: C0 controls (ESC, BEL, CR, LF, TAB…), DEL, C1
/// controls, and the bidirectional overrides that reorder what a line appears to say.
fn unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character a terminal would act on written as a visible escape (`\n`,
/// `\r`, `\t`, `\x1b`, `\u{202e}`); backslashes are doubled so escapes stay unambiguous.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c == '\\' || unsafe_for_terminal(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_for_terminal(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if unsafe_for_terminal(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Table,
    Json,
}

/// Prints `rows` under `headers`, columns padded to their widest cell, every cell escaped.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| escape(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths.get(i).copied().unwrap_or(0)))
            .collect();
        out(padded.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_uppercase()).collect());
    for row in rows {
        line(row);
    }
}

pub fn json(value: &Value) {
    out(&serde_json::to_string_pretty(value).unwrap_or_default());
}

/// RFC 3339 text of a protobuf timestamp ("" when unset).
pub fn time(ts: &Option<prost_types::Timestamp>) -> String {
    ts.as_ref()
        .and_then(lockstep_proto::from_timestamp)
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_text_is_kept() {
        assert!(matches!(escape("OpenSSL 3.0 – überflow"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\u{1b}]0;pwned\u{7}b\rc\nd\te"),
            "a\\x1b]0;pwned\\x07b\\rc\\nd\\te"
        );
        assert_eq!(escape("\u{0}\u{7f}\u{9b}2J"), "\\x00\\x7f\\x9b2J");
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(
            escape("C:\\x1b"),
            "C:\\\\x1b",
            "a literal backslash stays distinguishable"
        );
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            assert!(
                !escape(&c.to_string()).chars().any(char::is_control),
                "{c:?} is escaped"
            );
        }
    }
}
