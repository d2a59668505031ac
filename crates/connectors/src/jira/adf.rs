//! Atlassian Document Format (ADF) for REST v3's rich-text fields (`description`, comment
//! bodies; reference A2): the plain text Lockstep drafts becomes paragraphs (split on blank
//! lines) with hard breaks for single line breaks, so the text reads in Jira as it was written.

use serde_json::{Value, json};

fn paragraph(block: &str) -> Value {
    let mut content = Vec::new();
    for (i, line) in block.lines().enumerate() {
        if i > 0 {
            content.push(json!({"type": "hardBreak"}));
        }
        if !line.is_empty() {
            content.push(json!({"type": "text", "text": line}));
        }
    }
    json!({"type": "paragraph", "content": content})
}

/// An ADF document of `text`; empty text is one empty paragraph (Jira refuses a doc without
/// content).
pub fn doc(text: &str) -> Value {
    let normalised = text.replace("\r\n", "\n");
    let blocks: Vec<Value> = normalised
        .split("\n\n")
        .map(|b| b.trim_matches('\n'))
        .filter(|b| !b.trim().is_empty())
        .map(paragraph)
        .collect();
    let content = if blocks.is_empty() {
        vec![json!({"type": "paragraph", "content": []})]
    } else {
        blocks
    };
    json!({"type": "doc", "version": 1, "content": content})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_paragraphs_and_hard_breaks() {
        let d = doc("Title line\nsecond line\n\nNext paragraph\r\n");
        assert_eq!(d["type"], "doc");
        assert_eq!(d["version"], 1);
        let paras = d["content"].as_array().unwrap();
        assert_eq!(paras.len(), 2);
        assert_eq!(paras[0]["content"][0]["text"], "Title line");
        assert_eq!(paras[0]["content"][1]["type"], "hardBreak");
        assert_eq!(paras[0]["content"][2]["text"], "second line");
        assert_eq!(paras[1]["content"][0]["text"], "Next paragraph");
        assert_eq!(doc("  ")["content"][0]["type"], "paragraph");
    }
}
