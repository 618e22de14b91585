//! `[[policy]]`: rules by role over exposed names (allow and deny globs) with an optional CEL
//! condition, compiled here so a bad glob or expression is a load error naming the rule.

use super::ConfigError;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuleSpec {
    name: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    when: Option<String>,
}

/// One compiled rule.
#[derive(Clone)]
pub struct PolicyRule {
    /// Its name (`name`, else `policy[N]`), which decisions and the audit log cite.
    pub name: Arc<str>,
    /// Roles it applies to; `*` (or none written) applies to every caller.
    pub roles: Vec<String>,
    /// Exposed names (tools, prompts) and exposed resource URIs it allows.
    pub allow: GlobSet,
    /// ... and denies (deny wins over any allow).
    pub deny: GlobSet,
    /// A condition an allowed call must also meet.
    pub when: Option<Condition>,
}

/// A compiled CEL expression and its text.
#[derive(Clone)]
pub struct Condition {
    /// As written.
    pub source: Arc<str>,
    /// Compiled.
    pub program: Arc<cel::Program>,
    /// Whether it reads `args` (else the arguments are not converted for it).
    pub uses_args: bool,
    /// Whether it reads `identity`.
    pub uses_identity: bool,
}

impl std::fmt::Debug for PolicyRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyRule")
            .field("name", &self.name)
            .field("roles", &self.roles)
            .field("when", &self.when.as_ref().map(|w| &w.source))
            .finish_non_exhaustive()
    }
}

impl PolicyRule {
    /// Whether the rule applies to a caller with `roles`.
    pub fn applies_to(&self, roles: &[String]) -> bool {
        self.roles.iter().any(|r| r == "*" || roles.contains(r))
    }
}

/// Compile `list` (written at `path`): a bad glob is an error naming its index.
pub(super) fn globs(list: &[String], file: &str, path: &str) -> Result<GlobSet, ConfigError> {
    let mut b = GlobSetBuilder::new();
    for (i, g) in list.iter().enumerate() {
        let glob = Glob::new(g).map_err(|e| {
            ConfigError::invalid(
                file,
                &format!("{path}[{i}]"),
                format!("not a valid glob: {e}"),
            )
        })?;
        b.add(glob);
    }
    b.build()
        .map_err(|e| ConfigError::invalid(file, path, e.to_string()))
}

/// Compile the rules in the order written.
pub(super) fn build(specs: Vec<RuleSpec>, file: &str) -> Result<Vec<PolicyRule>, ConfigError> {
    specs
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("policy[{i}]");
            if s.allow.is_empty() && s.deny.is_empty() {
                return Err(ConfigError::invalid(
                    file,
                    &at,
                    "a rule needs allow or deny globs",
                ));
            }
            let when = match &s.when {
                Some(src) => {
                    let program = cel::Program::compile(src).map_err(|e| {
                        ConfigError::invalid(
                            file,
                            &format!("{at}.when"),
                            format!("not a valid CEL expression: {e}"),
                        )
                    })?;
                    let refs = program.references();
                    Some(Condition {
                        source: Arc::from(src.as_str()),
                        uses_args: refs.has_variable("args"),
                        uses_identity: refs.has_variable("identity"),
                        program: Arc::new(program),
                    })
                }
                None => None,
            };
            Ok(PolicyRule {
                name: Arc::from(s.name.unwrap_or_else(|| at.clone())),
                roles: if s.roles.is_empty() {
                    vec!["*".into()]
                } else {
                    s.roles
                },
                allow: globs(&s.allow, file, &format!("{at}.allow"))?,
                deny: globs(&s.deny, file, &format!("{at}.deny"))?,
                when,
            })
        })
        .collect()
}
