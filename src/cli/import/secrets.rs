//! Secrets written inline in a client's file (a token in `env`, an `Authorization` header, a
//! password in a URL or after `--api-key`) become `${VAR}` references in switchboard.toml, read
//! from the gateway's environment when it starts; each one is reported, by name only.

use std::collections::HashMap;

/// The variables this import refers to, and the value each stands for (never written out).
#[derive(Default)]
pub struct Secrets {
    vars: HashMap<String, String>,
    /// Every variable introduced, in order, with where its value was.
    pub introduced: Vec<(String, String)>,
}

/// A name or id as an environment variable name: `github-token` -> `GITHUB_TOKEN`.
pub fn var_name(s: &str) -> String {
    let mut v: String = s
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() {
            true => c.to_ascii_uppercase(),
            false => '_',
        })
        .collect();
    if v.is_empty() || v.starts_with(|c: char| c.is_ascii_digit()) {
        v.insert(0, '_');
    }
    v
}

/// Whether a variable, header or flag name says it holds a secret.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "api_key",
        "api-key",
        "auth",
        "credential",
        "cookie",
        "private_key",
        "access_key",
    ]
    .iter()
    .any(|w| n.contains(w))
        || n.ends_with("_key")
        || n.ends_with("-key")
        || n == "key"
        || n == "pat"
}

/// Whether a value looks like a well-known kind of token, whatever its name.
fn secret_value(v: &str) -> bool {
    [
        "ghp_",
        "gho_",
        "ghs_",
        "github_pat_",
        "glpat-",
        "sk-",
        "xoxb-",
        "xoxp-",
        "xapp-",
        "AKIA",
    ]
    .iter()
    .any(|p| v.starts_with(p) && v.len() > p.len() + 8)
}

impl Secrets {
    /// A variable for `value`, named `preferred` if free (or already holding the same value),
    /// else prefixed with the server's name, else numbered.
    fn claim(&mut self, server: &str, preferred: &str, value: &str, at: String) -> String {
        let base = var_name(preferred);
        let prefixed = var_name(&format!("{server}_{preferred}"));
        let mut candidates = vec![base, prefixed.clone()];
        candidates.extend((2..).take(98).map(|i| format!("{prefixed}_{i}")));
        for var in candidates {
            match self.vars.get(&var) {
                Some(v) if v == value => return var,
                Some(_) => continue,
                None => {
                    self.vars.insert(var.clone(), value.to_string());
                    self.introduced.push((var.clone(), at));
                    return var;
                }
            }
        }
        unreachable!("a hundred candidates for one secret")
    }

    /// An `env` value: a reference when its name or its look says it is a secret.
    pub fn env(
        &mut self,
        server: &str,
        key: &str,
        value: String,
        file: &str,
        warnings: &mut Vec<String>,
    ) -> String {
        if value.contains("${") || value.is_empty() || !(secret_name(key) || secret_value(&value)) {
            return value;
        }
        let var = self.claim(server, key, &value, format!("{file}: {server}: env {key}"));
        warnings.push(inline(file, server, &format!("env {key}"), &var));
        format!("${{{var}}}")
    }

    /// A header value: a reference when the header carries credentials (an auth scheme kept).
    pub fn header(
        &mut self,
        server: &str,
        name: &str,
        value: String,
        file: &str,
        warnings: &mut Vec<String>,
    ) -> String {
        if value.contains("${") || !(secret_name(name) || secret_value(&value)) {
            return value;
        }
        let (scheme, secret) = match value.split_once(' ') {
            Some((s, rest)) if ["bearer", "basic", "token"].contains(&&*s.to_lowercase()) => {
                (format!("{s} "), rest.to_string())
            }
            _ => (String::new(), value.clone()),
        };
        let preferred = match scheme.is_empty() {
            true => format!("{server}_{name}"),
            false => format!("{server}_token"),
        };
        let var = self.claim(
            server,
            &preferred,
            &secret,
            format!("{file}: {server}: header {name}"),
        );
        warnings.push(inline(file, server, &format!("header {name}"), &var));
        format!("{scheme}${{{var}}}")
    }

    /// A URL: a password in it becomes a reference.
    pub fn url(
        &mut self,
        server: &str,
        raw: &str,
        file: &str,
        warnings: &mut Vec<String>,
    ) -> String {
        let Ok(mut u) = url::Url::parse(raw) else {
            return raw.to_string();
        };
        let Some(password) = u
            .password()
            .map(str::to_string)
            .filter(|p| !p.contains("${"))
        else {
            return raw.to_string();
        };
        let var = self.claim(
            server,
            &format!("{server}_password"),
            &password,
            format!("{file}: {server}: URL"),
        );
        warnings.push(inline(file, server, "a URL's password", &var));
        // Set a placeholder through the parser (it escapes), then put the reference in its place.
        if u.set_password(Some("SWITCHBOARD-SECRET")).is_err() {
            return raw.to_string();
        }
        u.to_string()
            .replace("SWITCHBOARD-SECRET", &format!("${{{var}}}"))
    }

    /// Arguments: the value of a secret-named flag (`--api-key V`, `--token=V`), a token-looking
    /// argument, and a password inside a URL argument become references.
    pub fn args(
        &mut self,
        server: &str,
        args: Vec<String>,
        file: &str,
        warnings: &mut Vec<String>,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(args.len());
        for arg in args {
            let after_flag = out.last().is_some_and(|prev| {
                prev.starts_with('-') && !prev.contains('=') && secret_name(prev)
            });
            let converted = if arg.contains("${") {
                arg
            } else if let Some((flag, v)) = arg
                .split_once('=')
                .filter(|(f, _)| f.starts_with('-') && secret_name(f))
            {
                let name = flag.trim_start_matches('-');
                let var = self.claim(
                    server,
                    name,
                    v,
                    format!("{file}: {server}: argument {flag}"),
                );
                warnings.push(inline(file, server, &format!("argument {flag}"), &var));
                format!("{flag}=${{{var}}}")
            } else if after_flag || secret_value(&arg) {
                let name = match after_flag {
                    true => out
                        .last()
                        .map_or("token".into(), |p| p.trim_start_matches('-').to_string()),
                    false => "token".to_string(),
                };
                let var = self.claim(server, &name, &arg, format!("{file}: {server}: argument"));
                warnings.push(inline(file, server, "an argument", &var));
                format!("${{{var}}}")
            } else if arg.contains("://") {
                self.url(server, &arg, file, warnings)
            } else {
                arg
            };
            out.push(converted);
        }
        out
    }
}

fn inline(file: &str, server: &str, what: &str, var: &str) -> String {
    format!(
        "{file}: {server}: {what} held a secret inline; switchboard.toml refers to ${{{var}}} instead: set {var} in the gateway's environment"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_secrets_become_references_and_the_rest_stays() {
        let mut s = Secrets::default();
        let mut w = Vec::new();
        assert_eq!(
            s.env(
                "gh",
                "GITHUB_TOKEN",
                "ghp_abcdefghijklmnop".into(),
                "f",
                &mut w
            ),
            "${GITHUB_TOKEN}"
        );
        assert_eq!(s.env("time", "TZ", "UTC".into(), "f", &mut w), "UTC");
        assert_eq!(
            s.env("x", "VALUE", "sk-abcdefghijklmnopqrst".into(), "f", &mut w),
            "${VALUE}"
        );
        // The same name with another value gets the server's prefix.
        assert_eq!(
            s.env(
                "other",
                "GITHUB_TOKEN",
                "ghp_zzzzzzzzzzzzzzzz".into(),
                "f",
                &mut w
            ),
            "${OTHER_GITHUB_TOKEN}"
        );
        assert_eq!(
            s.header("docs", "Authorization", "Bearer abc123".into(), "f", &mut w),
            "Bearer ${DOCS_TOKEN}"
        );
        assert_eq!(
            s.header("docs", "Accept", "application/json".into(), "f", &mut w),
            "application/json"
        );
        assert_eq!(
            s.args(
                "pg",
                vec![
                    "-y".into(),
                    "server-postgres".into(),
                    "postgresql://me:hunter2@db/app".into()
                ],
                "f",
                &mut w
            ),
            [
                "-y",
                "server-postgres",
                "postgresql://me:${PG_PASSWORD}@db/app"
            ]
        );
        assert_eq!(
            s.args(
                "b",
                vec![
                    "--api-key".into(),
                    "k1".into(),
                    "--token=t1".into(),
                    "--verbose".into()
                ],
                "f",
                &mut w
            ),
            ["--api-key", "${API_KEY}", "--token=${TOKEN}", "--verbose"]
        );
        assert_eq!(w.len(), 7, "{w:#?}");
        assert!(
            w.iter()
                .all(|m| !m.contains("hunter2") && !m.contains("ghp_")),
            "never the value"
        );
        assert_eq!(var_name("github-token"), "GITHUB_TOKEN");
    }
}
