//! The built-in rule set (`router-config/default-rules.toml`, compiled into the binary) and how it
//! attaches to configured servers.

use crate::config::rules::RuleSpec;
use crate::config::{Rules, ServerSpec, Transport};
use indexmap::IndexMap;
use serde::Deserialize;
use std::sync::OnceLock;

/// The built-in rules, as shipped.
pub const DEFAULT_RULES: &str = include_str!("../../router-config/default-rules.toml");

/// One built-in rule set.
#[derive(Debug)]
pub struct DefaultRules {
    /// Its name (`github`, `weather`...).
    pub name: String,
    names: Vec<String>,
    commands: Vec<String>,
    /// The rules.
    pub rules: Rules,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rules: IndexMap<String, Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(rename = "match")]
    matches: Match,
    #[serde(flatten)]
    spec: RuleSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Match {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    commands: Vec<String>,
}

/// Every built-in rule set (parsed once).
pub fn all() -> &'static [DefaultRules] {
    static ALL: OnceLock<Vec<DefaultRules>> = OnceLock::new();
    ALL.get_or_init(|| {
        let file: File = toml::from_str(DEFAULT_RULES)
            .expect("the shipped default rules parse (a unit test checks)");
        file.rules
            .into_iter()
            .map(|(name, e)| DefaultRules {
                rules: e
                    .spec
                    .build("default-rules.toml", &format!("rules.{name}"))
                    .expect("the shipped default rules are valid"),
                names: e.matches.names.iter().map(|n| n.to_lowercase()).collect(),
                commands: e
                    .matches
                    .commands
                    .iter()
                    .map(|c| c.to_lowercase())
                    .collect(),
                name,
            })
            .collect()
    })
}

/// The built-in rule sets that identify `server`: by its name (or a word of it), or by what it launches.
pub fn attach(server: &ServerSpec) -> Vec<&'static DefaultRules> {
    let name = server.name.to_lowercase();
    let words: Vec<&str> = name.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let launch = match (&server.transport, &server.launch) {
        (Transport::Stdio(l), _) | (_, Some(l)) => l.display().to_lowercase(),
        _ => String::new(),
    };
    all()
        .iter()
        .filter(|d| {
            d.names
                .iter()
                .any(|n| *n == name || words.contains(&n.as_str()))
                || (!launch.is_empty() && d.commands.iter().any(|c| launch.contains(c.as_str())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_rules_parse_and_are_rich() {
        let all = all();
        assert!(all.len() >= 15, "{}", all.len());
        for d in all {
            assert!(d.rules.keywords.len() >= 10, "{} has few keywords", d.name);
        }
        let weather = all.iter().find(|d| d.name == "weather").unwrap();
        for w in ["outside", "umbrella", "forecast"] {
            assert!(weather.rules.keywords.iter().any(|k| k.text == w), "{w}");
        }
        let cal = all.iter().find(|d| d.name == "calendar").unwrap();
        for w in ["meeting", "invite", "reschedule"] {
            assert!(cal.rules.keywords.iter().any(|k| k.text == w), "{w}");
        }
    }
}
