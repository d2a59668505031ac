//! Keys that no field reads. serde ignores them silently, so a mistyped key
//! (`max_conections`) would leave the default in force without a word. Rather than ask every
//! service struct for `deny_unknown_fields` (which breaks `flatten` and would have to be
//! remembered on each new section), the loaded value is serialized back and compared with what
//! the layers supplied: whatever was supplied but has no counterpart was read by nobody.

use figment::value::{Dict, Value};
use figment::{Figment, Profile, Provider as _};
use serde::Serialize;

use crate::Error;

/// Dotted paths of keys that the layers of `figment` supply but `loaded` has no field for.
pub(super) fn unknown_keys<T: Serialize>(
    figment: &Figment,
    loaded: &T,
) -> Result<Vec<String>, Error> {
    let supplied = figment
        .data()
        .map_err(|e| Error::Config {
            problems: vec![e.to_string()],
        })?
        .remove(&Profile::Default)
        .unwrap_or_default();
    let known = match Value::serialize(loaded) {
        Ok(Value::Dict(_, dict)) => dict,
        // A configuration that is not a table has no keys to compare.
        _ => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    collect(&supplied, &known, &mut Vec::new(), &mut out);
    Ok(out)
}

fn collect(supplied: &Dict, known: &Dict, path: &mut Vec<String>, out: &mut Vec<String>) {
    for (key, value) in supplied {
        path.push(key.clone());
        match (known.get(key), value) {
            (None, _) => out.push(path.join(".")),
            (Some(Value::Dict(_, known)), Value::Dict(_, supplied)) => {
                collect(supplied, known, path, out);
            }
            // A leaf in the loaded value (a secret, a duration, a list, a map read by a custom
            // deserializer): its deserializer took whatever shape was supplied.
            (Some(_), _) => {}
        }
        path.pop();
    }
}
