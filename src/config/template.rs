//! Header values written with `${auth.CLAIM}` parts: filled in per call from the caller's identity.

/// A header value written with `${auth.CLAIM}` parts, filled in per call from the caller's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Claim(String),
}

impl Template {
    /// Split `raw` into text and `${auth.CLAIM}` parts; `None` when it names no claim.
    pub(super) fn parse(raw: &str) -> Option<Template> {
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(i) = rest.find("${auth.") {
            let tail = &rest[i + "${auth.".len()..];
            let end = tail.find('}')?;
            if i > 0 {
                parts.push(Part::Text(rest[..i].to_string()));
            }
            parts.push(Part::Claim(tail[..end].to_string()));
            rest = &tail[end + 1..];
        }
        if parts.is_empty() {
            return None;
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Some(Template(parts))
    }

    /// The value for a caller whose claims `claim` looks up; `None` when a claim is absent (the
    /// header is then left out).
    pub fn render(&self, claim: impl Fn(&str) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Claim(c) => out.push_str(&claim(c)?),
            }
        }
        Some(out)
    }
}
