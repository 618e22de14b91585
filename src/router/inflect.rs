//! Word-boundary matching that forgives inflection: "file" finds "files" and "filing", "commit"
//! finds "committed", "schedule" finds "scheduling", "query" finds "queries". Whether a prompt
//! word is a form of a keyword is the Snowball English stemmer's call (the `rust-stemmers`
//! crate): the two must have the same stem. The automaton still needs a literal to search
//! for, so each keyword is searched by a prefix every form shares (its stem's, a letter short:
//! "fil" finds "filing" for "file"), and each word found is then stemmed and compared. Only the
//! last word of a phrase inflects; words of three letters or fewer match as written (or with an
//! "s"), since stemming them mostly merges unrelated words ("bug", "bugs", but "us" and "use").

use rust_stemmers::{Algorithm, Stemmer};

/// How a keyword is searched: the prefix the automaton looks for, and what a found word must
/// stem to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// Lowercase text to search for (the phrase's earlier words, then a prefix of its last).
    pub stem: String,
    /// The phrase's earlier words and the space after them (lowercase), if any.
    head: usize,
    /// The last word's Snowball stem; `None`: the keyword matches as written (or plus "s").
    snow: Option<String>,
    /// The keyword as written (lowercase), for exact matching of short words.
    exact: String,
}

impl Form {
    /// What the form matches, as a key: keywords with the same key are one term ("file" and
    /// "files"), keywords whose prefix is shared but whose stems differ are not.
    pub fn key(&self) -> String {
        match &self.snow {
            Some(snow) => format!("{}\0{snow}", &self.exact[..self.head]),
            None => self.exact.clone(),
        }
    }
}

/// The word a keyword is, whatever its length: the phrase's earlier words and its last word's
/// Snowball stem. Keys keep a short word apart from a longer one ("row" matches as written,
/// "rows" by its stem); the root tells that both are the word "row".
pub fn root(keyword: &str) -> String {
    let kw = keyword.trim().to_lowercase();
    let head = kw.rfind(' ').map_or(0, |i| i + 1);
    format!("{}\0{}", &kw[..head], stemmer().stem(&kw[head..]))
}

fn stemmer() -> &'static Stemmer {
    static STEMMER: std::sync::OnceLock<Stemmer> = std::sync::OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// The search form of a keyword (already lowercase).
pub fn form(keyword: &str) -> Form {
    let kw = keyword.trim().to_string();
    let head = kw.rfind(' ').map_or(0, |i| i + 1);
    let last = &kw[head..];
    if last.len() <= 3 || !last.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Form {
            stem: kw.clone(),
            head,
            snow: None,
            exact: kw,
        };
    }
    let snow = stemmer().stem(last).into_owned();
    let shared = last
        .bytes()
        .zip(snow.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    // A letter short of the stem: "filing" is a form of "file" but does not contain it.
    let prefix = shared.min(snow.len().saturating_sub(1)).max(3);
    Form {
        stem: kw[..head + prefix].to_string(),
        head,
        snow: Some(snow),
        exact: kw,
    }
}

/// A form that matches the word as written (or plus "s"), not through stemming: for words a
/// thesaurus derived, where a stem shared by chance would say something else ("unite" and
/// "units" both stem to "unit").
pub fn exact(word: &str) -> Form {
    let kw = word.trim().to_string();
    Form {
        stem: kw.clone(),
        head: kw.rfind(' ').map_or(0, |i| i + 1),
        snow: None,
        exact: kw,
    }
}

/// Whether `found` (lowercase: the prompt's text from the match's start to the end of its
/// word) is a form of the keyword.
pub fn accepts(form: &Form, found: &str) -> bool {
    let Some(snow) = &form.snow else {
        return found == form.exact || found.strip_suffix('s') == Some(&form.exact);
    };
    if found.len() < form.head || found[..form.head] != form.exact[..form.head] {
        return false;
    }
    let last = &found[form.head..];
    last.bytes().all(|b| b.is_ascii_alphabetic()) && stemmer().stem(last) == snow.as_str()
}

/// Whether a byte belongs to a word (ASCII letters and digits; any non-ASCII byte, so that
/// accented letters never count as a boundary).
pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(keyword: &str, word: &str) -> bool {
        let f = form(keyword);
        word.starts_with(f.stem.as_str()) && accepts(&f, word)
    }

    #[test]
    fn inflections_match_and_lookalikes_do_not() {
        assert!(hits("file", "files"));
        assert!(hits("file", "file"));
        assert!(hits("file", "filing"));
        assert!(hits("commit", "committed"));
        assert!(hits("commit", "commits"));
        assert!(hits("commit", "committing"));
        assert!(hits("schedule", "scheduling"));
        assert!(hits("query", "queries"));
        assert!(hits("remember", "remembered"));
        assert!(hits("pull request", "pull requests"));
        assert!(!hits("pull request", "push requests"));
        assert!(!hits("file", "filesystem"));
        assert!(!hits("time", "timeline"));
        assert!(!hits("commit", "committee"));
        assert!(!hits("git", "gitter"));
        assert!(hits("git", "git"));
        assert!(hits("bug", "bugs"));
        assert!(!hits("use", "user"));
    }
}
