//! JQL tokens: quoted strings (`"…"` or `'…'`, backslash escapes), words (fields, keywords,
//! unquoted values such as `SEC-12`, `-5m` or epoch milliseconds), operators and punctuation.

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Str(String),
    Word(String),
    Op(String),
    LParen,
    RParen,
    Comma,
}

impl Tok {
    pub fn text(&self) -> String {
        match self {
            Tok::Str(s) | Tok::Word(s) | Tok::Op(s) => s.clone(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::Comma => ",".into(),
        }
    }
}

fn word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '[' | ']' | '+' | '@' | '*')
}

pub fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let quote = c;
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(format!(
                                "The quoted string starting with {quote} has not been completed."
                            ));
                        }
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                text.push(*n);
                            }
                            i += 2;
                        }
                        Some(ch) if *ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            text.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(text));
            }
            '=' | '~' => {
                out.push(Tok::Op(c.to_string()));
                i += 1;
            }
            '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let op = match (c, next) {
                    (_, Some('=')) => format!("{c}="),
                    ('!', Some('~')) => "!~".into(),
                    ('!', _) => {
                        return Err("The character '!' must be followed by '=' or '~'.".into());
                    }
                    _ => c.to_string(),
                };
                i += op.len();
                out.push(Tok::Op(op));
            }
            _ if word_char(c) => {
                let start = i;
                while i < chars.len() && word_char(chars[i]) {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => {
                return Err(format!(
                    "The character '{other}' is a reserved JQL character."
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_operators_strings_and_words() {
        let t = lex(r#"updated>=-5m AND key != "SEC-1" OR summary !~ 'a\'b'"#).expect("lexes");
        assert_eq!(t[0], Tok::Word("updated".into()));
        assert_eq!(t[1], Tok::Op(">=".into()));
        assert_eq!(t[2], Tok::Word("-5m".into()));
        assert_eq!(t[5], Tok::Op("!=".into()));
        assert_eq!(t[6], Tok::Str("SEC-1".into()));
        assert_eq!(t[9], Tok::Op("!~".into()));
        assert_eq!(t[10], Tok::Str("a'b".into()));
        assert!(lex("\"open").is_err());
    }
}
