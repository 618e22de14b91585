//! Where in the prompt a match sits: inside a URL (with a scheme, or a bare host such as
//! `docs.rs/tokio`), only the URL as a whole (a fetch) and its host's name (`github.com`) say
//! something; a word, an extension or a path in the rest of it does not
//! ("index.html" in `https://example.com/index.html` is no file to read, "issues" in a URL's path
//! no issue tracker); inside a path, a word names a file, not what is asked. Hand-written:
//! finding `scheme://` and the run after it is all it takes.

/// A URL in the prompt: its byte span, and its host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Url {
    start: usize,
    end: usize,
    host: (usize, usize),
}

/// The URLs of `prompt`: `scheme://` followed by anything up to white space, and bare hosts on
/// a common web domain (`docs.rs/tokio`, `status.example.com`), in the order found.
pub fn urls(prompt: &str) -> Vec<Url> {
    let mut out = schemed(prompt);
    if prompt.contains('.') {
        let bare: Vec<Url> = tokens(prompt)
            .filter(|&(s, t)| is_bare_url(t) && !out.iter().any(|u| s >= u.start && s < u.end))
            .map(|(s, t)| {
                let host = t.find('/').unwrap_or(t.len());
                Url {
                    start: s,
                    end: s + t.len(),
                    host: (s, s + host),
                }
            })
            .collect();
        out.extend(bare);
    }
    out
}

/// The words of `prompt` split on white space, without the punctuation around them, with
/// where each starts.
fn tokens(prompt: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    prompt.split(|c: char| c.is_whitespace()).map(move |token| {
        let start = at;
        at += token.len() + 1;
        let t = token.trim_end_matches(['.', ',', '?', '!', ':', ';', ')']);
        let trimmed = t.trim_start_matches(['(', '"', '\'']);
        (start + (t.len() - trimmed.len()), trimmed)
    })
}

/// The `scheme://...` URLs of `prompt`.
fn schemed(prompt: &str) -> Vec<Url> {
    let bytes = prompt.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = prompt[from..].find("://").map(|i| i + from) {
        let mut start = i;
        while start > 0
            && (bytes[start - 1].is_ascii_alphanumeric()
                || matches!(bytes[start - 1], b'+' | b'-' | b'.'))
        {
            start -= 1;
        }
        let mut end = i + 3;
        while end < bytes.len() && !bytes[end].is_ascii_whitespace() {
            end += 1;
        }
        let host_start = i + 3;
        let host_end = prompt[host_start..end]
            .find('/')
            .map_or(end, |j| host_start + j);
        if start < i {
            out.push(Url {
                start,
                end,
                host: (host_start, host_end),
            });
        }
        from = end.max(i + 3);
    }
    out
}

/// Whether a match at `start..end` is evidence: outside every URL, the whole URL's own (it
/// starts where the URL starts and reaches past its host), or the host's name (within the host,
/// ending where it ends or at the slash after it: `github.com/`, not "docs" in `docs.rs`).
pub fn counts(urls: &[Url], start: usize, end: usize) -> bool {
    urls.iter().all(|u| {
        end <= u.start
            || start >= u.end
            || (start == u.start && end > u.host.1)
            || (start >= u.host.0 && end >= u.host.1 && end <= u.host.1 + 1)
    })
}

/// What a span of the prompt is, whatever words it has: a URL is something on the web, a path
/// or a file name a file, an address an email. Servers whose tool catalog names the thing
/// ("Fetches a URL", "Read a file") get their catalog points for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implied {
    /// `scheme://...`, or a bare `host.tld/...` with a common web domain
    Url,
    /// `~/notes`, `/var/log/x`, `src/main.rs`, `report.pdf`
    Path,
    /// `name@example.com`
    Email,
}

impl Implied {
    /// The catalog words the thing stands for.
    pub fn words(self) -> &'static [&'static str] {
        match self {
            Implied::Url => &["url", "web", "internet", "website", "webpage"],
            Implied::Path => &["file", "path", "directory"],
            Implied::Email => &["email"],
        }
    }

    /// The words naming the thing before it in the text the semantic scorer embeds
    /// ([`super::Analysis::spelled`]): a model reads `docs.rs/tokio` as the words "docs" and
    /// "tokio", not as a link. Chosen on the development sets with all-MiniLM-L6-v2 (README,
    /// "Tool search by meaning"): "URL" and "web page" fused alike, "URL" found one more
    /// right server by meaning alone; the path's word changed nothing measured.
    pub fn mark(self) -> &'static str {
        match self {
            Implied::Url => "URL",
            Implied::Path => "file",
            Implied::Email => "email address",
        }
    }

    /// Every kind.
    pub const ALL: [Implied; 3] = [Implied::Url, Implied::Path, Implied::Email];
}

/// The spans of `prompt` that imply something ([`Implied`]), given its URLs ([`urls`]).
pub fn implied(prompt: &str, urls: &[Url]) -> Vec<(Implied, usize, usize)> {
    let mut out: Vec<(Implied, usize, usize)> = urls
        .iter()
        .map(|u| (Implied::Url, u.start, u.end))
        .collect();
    // Most prompts have none of the bytes a path or an address needs: one scan, no tokens.
    if !prompt
        .bytes()
        .any(|b| matches!(b, b'.' | b'/' | b'@' | b'~'))
    {
        return out;
    }
    for (s, t) in tokens(prompt) {
        // A plain word is none of them: most tokens stop here.
        if !t.bytes().any(|b| matches!(b, b'.' | b'/' | b'@' | b'~'))
            || urls.iter().any(|u| s >= u.start && s < u.end)
        {
            continue;
        }
        let e = s + t.len();
        if let Some((user, host)) = t.split_once('@') {
            if !user.is_empty() && host.contains('.') && !host.starts_with('.') {
                out.push((Implied::Email, s, e));
            }
            continue;
        }
        if is_path(t) {
            out.push((Implied::Path, s, e));
        }
    }
    out
}

/// Whether `start..end` lies inside one of the spans of `implied` ([`implied`]) of a kind in
/// `kinds` without being all of it: a word in a path names a file or a folder ("debug" in
/// `target/debug`, "env" in `.env`), one in an address a mailbox ("finance", "acme" in
/// `finance@acme.com`), not what the prompt asks.
pub fn inside(
    implied: &[(Implied, usize, usize)],
    kinds: &[Implied],
    start: usize,
    end: usize,
) -> bool {
    implied.iter().any(|&(kind, s, e)| {
        kinds.contains(&kind) && s <= start && end <= e && (s, e) != (start, end)
    })
}

/// Common web domains: a name ending in one is a host, not a file.
const DOMAINS: &[&str] = &[
    "com", "org", "net", "io", "dev", "ai", "co", "rs", "uk", "de",
];

/// `docs.rs/tokio`, `status.example.com`: a host (its last label a common web domain), and
/// perhaps a path, without a scheme.
fn is_bare_url(t: &str) -> bool {
    let host = t.split('/').next().unwrap_or(t);
    let Some((name, tld)) = host.rsplit_once('.') else {
        return false;
    };
    let label =
        |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    name.split('.').all(label)
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && is_domain(tld)
}

/// Whether `label` is one of the [`DOMAINS`], in any case.
fn is_domain(label: &str) -> bool {
    DOMAINS.iter().any(|d| label.eq_ignore_ascii_case(d))
}

/// `~/x`, `./x`, `/a/b`, `a/b.ext`, `name.ext` with a short extension (two to five letters
/// or digits, not all digits) that is not a web domain's, a dotfile (`.env`, `.gitignore`), or
/// a relative path of names (`target/debug`, `src/router`: two or more, one at least not a
/// stop word, so "and/or" is none; not a date's digits).
fn is_path(t: &str) -> bool {
    if t.starts_with("~/") || t.starts_with("./") || t.starts_with("../") {
        return true;
    }
    let slashes = t.matches('/').count();
    if t.starts_with('/') && t.len() > 1 && slashes >= 2 {
        return true;
    }
    if is_dotfile(t) || (slashes > 0 && is_relative(t)) {
        return true;
    }
    let Some((name, ext)) = t.rsplit_once('.') else {
        return false;
    };
    let file_like = !name.is_empty()
        && (2..=5).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_alphanumeric())
        && ext.bytes().any(|b| b.is_ascii_alphabetic());
    file_like && (slashes > 0 || !is_domain(ext))
}

/// `.env`, `.gitignore`, `.env.example`: a dot, then a lowercase name with a letter.
fn is_dotfile(t: &str) -> bool {
    let Some(name) = t.strip_prefix('.') else {
        return false;
    };
    let first = name.bytes().next();
    first.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// `target/debug`, `src/router/`: names (letters, digits, `.`, `_`, `-`) joined by slashes,
/// each with a letter, not all of them stop words ("and/or", "he/she").
fn is_relative(t: &str) -> bool {
    let t = t.strip_suffix('/').unwrap_or(t);
    let parts: Vec<&str> = t.split('/').collect();
    let name = |p: &&str| {
        !p.is_empty()
            && p.bytes().any(|b| b.is_ascii_alphabetic())
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    let says = |p: &&str| !super::examples::is_stop_word(&p.to_ascii_lowercase());
    parts.len() >= 2 && parts.iter().all(name) && parts.iter().any(says)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_url_itself_and_its_host_count() {
        let p = "fetch https://example.com/docs/index.html and read notes.txt";
        let u = urls(p);
        assert_eq!(u.len(), 1);
        let at = |s: &str| (p.find(s).unwrap(), p.find(s).unwrap() + s.len());
        let (s, e) = at("https://example.com/docs/index.html");
        assert!(counts(&u, s, e), "the URL as a whole");
        let (s, e) = at("example.com");
        assert!(counts(&u, s, e), "its host");
        let (s, e) = at("index.html");
        assert!(!counts(&u, s, e), "a file name in its path");
        let (s, e) = at("/docs/index.html");
        assert!(!counts(&u, s, e), "its path");
        let (s, e) = at("notes.txt");
        assert!(counts(&u, s, e), "outside it");
        let g = "open github.com/acme/site in https://github.com/acme/site/issues";
        let u = urls(g);
        let at = g.rfind("github.com/").unwrap();
        assert!(
            counts(&u, at, at + "github.com/".len()),
            "host and its slash"
        );
        let at = g.rfind("issues").unwrap();
        assert!(!counts(&u, at, at + 6));
        assert!(urls("plain words").is_empty());
        // A bare host is a URL too: its name counts, a word inside it or its path does not.
        let b = "read the docs page at docs.rs/tokio, or status.example.com.";
        let u = urls(b);
        let found: Vec<&str> = u.iter().map(|u| &b[u.start..u.end]).collect();
        assert_eq!(found, ["docs.rs/tokio", "status.example.com"]);
        let at = |s: &str| (b.rfind(s).unwrap(), b.rfind(s).unwrap() + s.len());
        let (s, e) = at("docs");
        assert!(!counts(&u, s, e), "a word inside the host");
        let (s, e) = at("tokio");
        assert!(!counts(&u, s, e), "its path");
        let (s, e) = at("example.com");
        assert!(counts(&u, s, e), "the host's name");
        let (s, e) = b.find("docs").map(|s| (s, s + 4)).unwrap();
        assert!(counts(&u, s, e), "the same word outside it");
    }

    #[test]
    fn urls_paths_and_addresses_are_what_they_are() {
        let p = "mail bob@example.com the file ~/notes/q3.md, not https://x.org/a.md or v2.3.0 but docs.rs/tokio";
        let found: Vec<(Implied, &str)> = implied(p, &urls(p))
            .into_iter()
            .map(|(k, s, e)| (k, &p[s..e]))
            .collect();
        assert_eq!(
            found,
            [
                (Implied::Url, "https://x.org/a.md"),
                (Implied::Url, "docs.rs/tokio"),
                (Implied::Email, "bob@example.com"),
                (Implied::Path, "~/notes/q3.md"),
            ]
        );
        assert!(is_path("Cargo.toml") && is_path("src/main.rs") && is_path("/var/log/syslog"));
        assert!(!is_path("example.com") && !is_path("3.14") && !is_path("e.g"));
        assert!(is_path(".env") && is_path(".env.example") && is_path(".gitignore"));
        assert!(is_path("target/debug") && is_path("src/router/"));
        assert!(!is_path("and/or") && !is_path("12/05") && !is_path(".NET") && !is_path("..."));
        let q = "delete target/debug and .env";
        let found = implied(q, &urls(q));
        let at = |w: &str| (q.find(w).unwrap(), q.find(w).unwrap() + w.len());
        assert!(inside(
            &found,
            &[Implied::Path],
            at("debug").0,
            at("debug").1
        ));
        assert!(inside(&found, &[Implied::Path], at("env").0, at("env").1));
        assert!(
            !inside(
                &found,
                &[Implied::Path],
                at("target/debug").0,
                at("target/debug").1
            ),
            "all of it"
        );
        assert!(!inside(
            &found,
            &[Implied::Path],
            at("delete").0,
            at("delete").1
        ));
        assert!(is_bare_url("status.example.com") && is_bare_url("example.com/a.md"));
        assert!(!is_bare_url("Cargo.toml") && !is_bare_url("v2.3.0") && !is_bare_url("e.g"));
    }
}
