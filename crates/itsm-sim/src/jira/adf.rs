//! Atlassian Document Format, as far as the emulator needs it: v3 takes and returns ADF for
//! `description` and comment bodies, v2 (and webhook payloads) plain strings. Text is stored as ADF
//! and converted at the edge.

use serde_json::{Value, json};

/// A minimal document: one paragraph per line.
pub fn from_text(text: &str) -> Value {
    let content: Vec<Value> = text
        .split('\n')
        .map(|line| {
            if line.is_empty() {
                json!({"type": "paragraph", "content": []})
            } else {
                json!({"type": "paragraph", "content": [{"type": "text", "text": line}]})
            }
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": content})
}

/// The text of a document: text nodes concatenated, block nodes separated by newlines.
pub fn to_text(doc: &Value) -> String {
    let blocks = doc.get("content").and_then(Value::as_array);
    blocks
        .map(|blocks| {
            blocks
                .iter()
                .map(inline_text)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn inline_text(node: &Value) -> String {
    if let Some(t) = node.get("text").and_then(Value::as_str) {
        return t.to_string();
    }
    if node.get("type").and_then(Value::as_str) == Some("hardBreak") {
        return "\n".into();
    }
    node.get("content")
        .and_then(Value::as_array)
        .map(|c| c.iter().map(inline_text).collect::<String>())
        .unwrap_or_default()
}

/// Whether `v` is an ADF document root (`{"type":"doc","version":1,"content":[...]}`).
pub fn is_doc(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("doc")
        && v.get("version").and_then(Value::as_u64) == Some(1)
        && v.get("content").is_some_and(Value::is_array)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_through_adf() {
        let doc = from_text("first\nsecond line");
        assert!(is_doc(&doc));
        assert_eq!(to_text(&doc), "first\nsecond line");
        assert!(!is_doc(&json!("plain")));
        assert!(!is_doc(&json!({"type": "doc", "content": []})));
    }
}
