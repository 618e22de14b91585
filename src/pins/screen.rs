//! Description screening: tool descriptions (and titles) that speak to the model rather than to
//! the user: hidden directives, "ignore previous instructions", requests for secrets or to keep
//! things from the user (the rules in `router-config/screening.toml`, compiled in), invisible
//! characters that hide text from the person reading it, and overlong descriptions.

use regex::RegexSet;
use serde::Deserialize;
use serde_json::Value;
use std::sync::LazyLock;

const RULES: &str = include_str!("../../router-config/screening.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    max_description_bytes: usize,
    rule: Vec<RuleSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    reason: String,
    patterns: Vec<String>,
}

struct Rules {
    max: usize,
    /// Every pattern of every rule, and the rule each belongs to.
    set: RegexSet,
    owner: Vec<usize>,
    reasons: Vec<(String, String)>,
}

static COMPILED: LazyLock<Rules> = LazyLock::new(|| {
    let file: File =
        toml::from_str(RULES).expect("router-config/screening.toml parses (a test checks it)");
    let mut patterns = Vec::new();
    let mut owner = Vec::new();
    for (i, r) in file.rule.iter().enumerate() {
        for p in &r.patterns {
            patterns.push(format!("(?is){p}"));
            owner.push(i);
        }
    }
    Rules {
        max: file.max_description_bytes,
        set: RegexSet::new(&patterns).expect("screening patterns compile (a test checks it)"),
        owner,
        reasons: file.rule.into_iter().map(|r| (r.id, r.reason)).collect(),
    }
});

/// Characters that render as nothing (or reorder text) and so hide what the model reads from the
/// person who reads the description: zero-width and bidirectional controls, the tag block.
fn invisible(c: char) -> bool {
    matches!(c as u32,
        0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF | 0xE0000..=0xE007F)
}

/// Why a tool definition looks aimed at the model, if it does: `rule id: reason`, one per finding.
pub fn screen(definition: &Value) -> Vec<String> {
    let rules = &*COMPILED;
    let text: String = ["description", "title"]
        .iter()
        .filter_map(|k| definition.get(*k).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    if let Some(c) = text.chars().find(|c| invisible(*c)) {
        found.push(format!(
            "invisible: contains invisible characters (U+{:04X}) that hide text from the user",
            c as u32
        ));
    }
    let len = definition
        .get("description")
        .and_then(Value::as_str)
        .map_or(0, str::len);
    if len > rules.max {
        found.push(format!(
            "long: the description is {len} bytes (more than {})",
            rules.max
        ));
    }
    let mut hit: Vec<usize> = rules
        .set
        .matches(&text)
        .iter()
        .map(|i| rules.owner[i])
        .collect();
    hit.dedup();
    for r in hit {
        let (id, reason) = &rules.reasons[r];
        found.push(format!("{id}: {reason}"));
    }
    found
}

#[cfg(test)]
mod tests;
