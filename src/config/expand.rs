//! `${VAR}` expansion from the environment, and the few variables editors define.

use super::ConfigError;
use std::path::{Path, PathBuf};

/// `${SWITCHBOARD_SELF}`: the switchboard executable itself (for its demo servers and fixture).
pub const SELF: &str = "SWITCHBOARD_SELF";

/// What `${...}` can refer to while loading one file.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// VS Code's `${workspaceFolder}`: the folder holding `.vscode/`.
    workspace: Option<PathBuf>,
    /// Extra variables that shadow the environment (the embedded default uses one).
    extra: Vec<(String, String)>,
    /// The configuration file's folder.
    dir: Option<PathBuf>,
}

impl Context {
    /// Context for a config file at `path`.
    pub fn for_file(path: &Path) -> Self {
        let dir = path.parent().map(Path::to_path_buf);
        let workspace = match dir {
            Some(d) if d.file_name().is_some_and(|n| n == ".vscode") => {
                d.parent().map(Path::to_path_buf)
            }
            other => other,
        };
        Context {
            workspace,
            extra: Vec::new(),
            dir: path.parent().map(Path::to_path_buf),
        }
    }

    /// Add a variable that shadows the environment.
    #[cfg(test)]
    pub fn with_var(mut self, name: &str, value: String) -> Self {
        self.extra.push((name.to_string(), value));
        self
    }

    fn lookup(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.extra.iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        if name == SELF {
            // This executable, in every file (so a copy of the embedded default loads as-is).
            return std::env::current_exe()
                .ok()
                .map(|p| p.display().to_string());
        }
        std::env::var(name).ok()
    }

    /// Expand `${VAR}`, `${VAR:-default}`, `${env:VAR}` and `${workspaceFolder}`; `$$` is a `$`.
    /// An unset variable without a default is an error naming it.
    pub fn expand(&self, s: &str, file: &str, path: &str) -> Result<String, ConfigError> {
        if !s.contains('$') {
            return Ok(s.to_string());
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('$') {
                out.push('$');
                rest = r;
            } else if let Some(body) = after.strip_prefix('{') {
                let end = body.find('}').ok_or_else(|| {
                    ConfigError::invalid(file, path, "unterminated \"${\" (missing \"}\")")
                })?;
                out.push_str(&self.resolve(&body[..end], file, path)?);
                rest = &body[end + 1..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    fn resolve(&self, expr: &str, file: &str, path: &str) -> Result<String, ConfigError> {
        if expr == "workspaceFolder" {
            return self
                .workspace
                .as_ref()
                .map(|p| p.display().to_string())
                .ok_or_else(|| ConfigError::invalid(file, path, "${workspaceFolder} is unknown"));
        }
        if let Some(input) = expr.strip_prefix("input:") {
            return Err(ConfigError::invalid(
                file,
                path,
                format!(
                    "${{input:{input}}} asks the editor to prompt, which a gateway cannot do; \
                     use ${{env:VAR}} and set the variable instead"
                ),
            ));
        }
        let expr = expr.strip_prefix("env:").unwrap_or(expr);
        let (name, default) = match expr.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (expr, None),
        };
        if name.is_empty() {
            return Err(ConfigError::invalid(file, path, "empty ${} variable name"));
        }
        match (self.lookup(name), default) {
            (Some(v), _) => Ok(v),
            (None, Some(d)) => Ok(d.to_string()),
            (None, None) => Err(ConfigError::invalid(
                file,
                path,
                format!("environment variable {name} is not set (referenced as ${{{name}}})"),
            )),
        }
    }
}

impl Context {
    /// A path relative to the configuration file's folder (absolute paths stay).
    pub fn relative(&self, p: &Path) -> PathBuf {
        match (&self.dir, p.is_absolute()) {
            (Some(d), false) => d.join(p),
            _ => p.to_path_buf(),
        }
    }
}

/// Expand a leading `~/` to the home directory (the seed-004 registry writes paths that way).
pub fn tilde(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_variables() {
        let ctx = Context::default().with_var("TOKEN", "s3cret".into());
        let e = |s: &str| ctx.expand(s, "f", "p");
        assert_eq!(e("Bearer ${TOKEN}").unwrap(), "Bearer s3cret");
        assert_eq!(e("${env:TOKEN}").unwrap(), "s3cret");
        assert_eq!(e("${SB_SURELY_UNSET:-dflt}").unwrap(), "dflt");
        assert_eq!(e("a$$b $x").unwrap(), "a$b $x");
        let err = e("${SB_SURELY_UNSET}").unwrap_err().to_string();
        assert!(err.contains("SB_SURELY_UNSET is not set"), "{err}");
        assert!(e("${input:key}")
            .unwrap_err()
            .to_string()
            .contains("input:key"));
        assert!(e("${open").is_err());
    }
}
