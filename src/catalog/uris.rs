//! Resource URIs across servers: exposed as `{prefix}+{original}` (still a valid URI: the prefix
//! joins the scheme), routed back by prefix, by exact URI, or by matching a server's templates.

use crate::upstream::Item;
use indexmap::IndexMap;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Arc;

/// One server's resources, as the index is built from them.
pub struct ResourceSource<'a> {
    /// Server name.
    pub server: &'a Arc<str>,
    /// Whether its URIs are prefixed.
    pub prefix: bool,
    /// `resources/list` items.
    pub resources: &'a [Item],
    /// `resources/templates/list` items.
    pub templates: &'a [Item],
    /// Whether the server offers resources at all.
    pub offers: bool,
}

/// The scheme prefix of a server: lowercase, `[a-z0-9.-]`, starting with a letter (URI scheme rules).
pub fn scheme_prefix(server: &str) -> String {
    let mut p: String = server
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !p.starts_with(|c: char| c.is_ascii_lowercase()) {
        p.insert(0, 's');
    }
    p
}

/// Where resource URIs lead.
#[derive(Debug, Default)]
pub struct ResourceIndex {
    /// Exposed resource objects (URI rewritten), in order.
    pub resources: Vec<Box<RawValue>>,
    /// Exposed template objects (`uriTemplate` rewritten), in order.
    pub templates: Vec<Box<RawValue>>,
    /// Prefix -> server, for prefixed servers.
    prefixes: HashMap<String, usize>,
    /// Server -> its prefix (None: unprefixed).
    prefix_of: Vec<Option<String>>,
    /// Original URI -> first server listing it.
    by_uri: HashMap<Arc<str>, usize>,
    /// (server, template) in configuration order.
    matchers: Vec<(usize, Template)>,
    /// Servers that offer resources.
    offering: Vec<usize>,
}

impl ResourceIndex {
    /// Build from every server's lists (configuration order).
    pub fn build(sources: &[ResourceSource<'_>]) -> ResourceIndex {
        let mut idx = ResourceIndex::default();
        for (i, src) in sources.iter().enumerate() {
            let prefix = src.prefix.then(|| {
                let base = scheme_prefix(src.server);
                let mut p = base.clone();
                let mut n = 2;
                while idx.prefixes.contains_key(&p) {
                    p = format!("{base}{n}");
                    n += 1;
                }
                idx.prefixes.insert(p.clone(), i);
                p
            });
            if src.offers {
                idx.offering.push(i);
            }
            for r in src.resources {
                idx.by_uri.entry(r.key.clone()).or_insert(i);
                if let Some(json) = rewrite(&r.raw, "uri", prefix.as_deref()) {
                    idx.resources.push(json);
                }
            }
            for t in src.templates {
                idx.matchers.push((i, Template::parse(&t.key)));
                if let Some(json) = rewrite(&t.raw, "uriTemplate", prefix.as_deref()) {
                    idx.templates.push(json);
                }
            }
            idx.prefix_of.push(prefix);
        }
        idx
    }

    /// Only what an endpoint shows: no route to a server it leaves out (built from sources
    /// whose lists were emptied for those), and only the URIs and templates `admits` accepts.
    pub(super) fn only(
        mut self,
        has_server: impl Fn(usize) -> bool,
        admits: impl Fn(&str) -> bool,
    ) -> Self {
        self.prefixes.retain(|_, s| has_server(*s));
        let keep = |r: &RawValue, key: &str| {
            crate::jsonrpc::string_member(Some(r.get()), key).is_some_and(|u| admits(&u))
        };
        self.resources.retain(|r| keep(r, "uri"));
        self.templates.retain(|r| keep(r, "uriTemplate"));
        self
    }

    /// The server and original URI an exposed URI leads to.
    pub fn route(&self, uri: &str) -> Option<(usize, String)> {
        if let Some((p, rest)) = uri.split_once('+') {
            if let Some(&server) = self.prefixes.get(p) {
                return Some((server, rest.to_string()));
            }
        }
        if let Some(&server) = self.by_uri.get(uri) {
            return Some((server, uri.to_string()));
        }
        if let Some((server, _)) = self.matchers.iter().find(|(_, t)| t.matches(uri)) {
            return Some((*server, uri.to_string()));
        }
        match self.offering.as_slice() {
            [only] => Some((*only, uri.to_string())),
            _ => None,
        }
    }

    /// The exposed form of a server's URI.
    pub fn expose(&self, server: usize, uri: &str) -> String {
        match self.prefix_of.get(server).and_then(Option::as_deref) {
            Some(p) => format!("{p}+{uri}"),
            None => uri.to_string(),
        }
    }
}

fn rewrite(raw: &RawValue, member: &str, prefix: Option<&str>) -> Option<Box<RawValue>> {
    let Some(prefix) = prefix else {
        return Some(raw.to_owned());
    };
    let mut obj: IndexMap<String, Box<RawValue>> = serde_json::from_str(raw.get()).ok()?;
    let original: String = serde_json::from_str(obj.get(member)?.get()).ok()?;
    obj.insert(
        member.into(),
        serde_json::value::to_raw_value(&format!("{prefix}+{original}")).ok()?,
    );
    serde_json::value::to_raw_value(&obj).ok()
}

/// An RFC 6570 template reduced to what routing needs: its literal pieces in order.
#[derive(Debug)]
struct Template {
    literals: Vec<String>,
    /// Whether it ends with an expression (which then matches any tail).
    open_end: bool,
}

impl Template {
    fn parse(t: &str) -> Template {
        let mut literals = Vec::new();
        let mut rest = t;
        let mut open_end = false;
        loop {
            match rest.find('{') {
                Some(i) => {
                    literals.push(rest[..i].to_string());
                    let close = rest[i..].find('}').map_or(rest.len(), |j| i + j + 1);
                    rest = &rest[close..];
                    if rest.is_empty() {
                        open_end = true;
                        break;
                    }
                }
                None => {
                    literals.push(rest.to_string());
                    break;
                }
            }
        }
        Template { literals, open_end }
    }

    /// Whether `uri` fits: literals in order, expressions matching anything non-empty between.
    fn matches(&self, uri: &str) -> bool {
        let Some((first, others)) = self.literals.split_first() else {
            return false;
        };
        let Some(mut rest) = uri.strip_prefix(first.as_str()) else {
            return false;
        };
        if others.is_empty() {
            return if self.open_end {
                !rest.is_empty()
            } else {
                rest.is_empty()
            };
        }
        for (k, lit) in others.iter().enumerate() {
            let last = k + 1 == others.len();
            if last && !self.open_end {
                return rest.len() > lit.len() && rest.ends_with(lit.as_str());
            }
            match rest.get(1..).and_then(|r| r.find(lit.as_str())) {
                Some(j) => rest = &rest[1 + j + lit.len()..],
                None => return false,
            }
        }
        !self.open_end || !rest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, member: &str) -> Item {
        let raw = format!(r#"{{"{member}":"{key}","name":"n"}}"#);
        Item {
            key: Arc::from(key),
            raw: Arc::from(RawValue::from_string(raw).unwrap()),
        }
    }

    #[test]
    fn templates_match_their_uris() {
        let t = Template::parse("test://template/{id}/data");
        assert!(t.matches("test://template/123/data"));
        assert!(!t.matches("test://template//data"));
        assert!(!t.matches("test://template/123/other"));
        let t = Template::parse("file:///{path}");
        assert!(t.matches("file:///etc/hosts"));
        assert!(!t.matches("http://x"));
    }

    #[test]
    fn routes_prefixed_exact_and_templated_uris() {
        let (a, b): (Arc<str>, Arc<str>) = (Arc::from("Every_Thing"), Arc::from("conf"));
        let ra = [item("demo://resource/1", "uri")];
        let rb = [item("test://static-text", "uri")];
        let tb = [item("test://template/{id}/data", "uriTemplate")];
        let idx = ResourceIndex::build(&[
            ResourceSource {
                server: &a,
                prefix: true,
                resources: &ra,
                templates: &[],
                offers: true,
            },
            ResourceSource {
                server: &b,
                prefix: false,
                resources: &rb,
                templates: &tb,
                offers: true,
            },
        ]);
        assert!(idx.resources[0]
            .get()
            .contains("every-thing+demo://resource/1"));
        assert!(idx.resources[1].get().contains("\"test://static-text\""));
        assert_eq!(
            idx.route("every-thing+demo://resource/1"),
            Some((0, "demo://resource/1".into()))
        );
        assert_eq!(
            idx.route("demo://resource/1"),
            Some((0, "demo://resource/1".into()))
        );
        assert_eq!(
            idx.route("test://static-text"),
            Some((1, "test://static-text".into()))
        );
        assert_eq!(
            idx.route("test://template/9/data"),
            Some((1, "test://template/9/data".into()))
        );
        assert_eq!(idx.route("nowhere://x"), None);
        assert_eq!(idx.expose(0, "demo://x"), "every-thing+demo://x");
        assert_eq!(scheme_prefix("9lives"), "s9lives");
    }
}
