//! Where in the prompt a match sits: inside a URL, only the URL as a whole (a fetch) and its host
//! (`github.com`) say something; a word, an extension or a path in the rest of it does not
//! ("index.html" in `https://example.com/index.html` is no file to read, "issues" in a URL's path
//! no issue tracker). Hand-written: finding `scheme://` and the run after it is all it takes.

/// A URL in the prompt: its byte span, and its host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Url {
    start: usize,
    end: usize,
    host: (usize, usize),
}

/// The URLs of `prompt` (`scheme://` followed by anything up to white space).
pub fn urls(prompt: &str) -> Vec<Url> {
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
/// starts where the URL starts), or within its host (and the slash after it).
pub fn counts(urls: &[Url], start: usize, end: usize) -> bool {
    urls.iter().all(|u| {
        end <= u.start
            || start >= u.end
            || start == u.start
            || (start >= u.host.0 && end <= u.host.1 + 1)
    })
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
    }
}
