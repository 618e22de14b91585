//! Configuration errors: each names the file, the field path and what is wrong.

/// Why a configuration cannot be used; the gateway does not start with one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML/JSON, or a field is wrong.
    #[error("{file}: {path}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Dotted path of the offending field (`servers.docs.url`), or `.` for the whole file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// An invalid field.
    pub fn invalid(file: &str, path: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            file: file.to_string(),
            path: if path.is_empty() {
                ".".into()
            } else {
                path.to_string()
            },
            message: message.into(),
        }
    }

    /// From a deserializer error that knows its path.
    pub fn from_path_error<E: std::fmt::Display>(
        file: &str,
        err: serde_path_to_error::Error<E>,
    ) -> Self {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        Self::invalid(file, &path, without_snippet(&inner))
    }
}

/// A toml message without its position header and source snippet (`  |`, `3 | text`, `  ^^^`):
/// the words that say what is wrong ("unknown field `comand`, expected one of ...").
pub fn without_snippet(message: &str) -> String {
    let snippet = |l: &str| {
        let t = l.trim_start();
        t.starts_with('|')
            || t.starts_with('^')
            || t.split_once(" |")
                .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
    };
    let words: Vec<&str> = message
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("TOML parse error") && !snippet(l))
        .map(str::trim)
        .collect();
    if words.is_empty() {
        message.trim().to_string()
    } else {
        words.join("; ")
    }
}
