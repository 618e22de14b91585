//! Word-boundary matching that forgives inflection: "file" finds "files", "commit" finds
//! "committed", "schedule" finds "scheduling", "query" finds "queries".
//!
//! Hand-written rather than a stemming crate: the automaton needs a *prefix* to search for and a
//! small set of endings to accept after it, which a stemmer (stem in, stem out) does not give.

/// How a keyword is searched: the prefix the automaton looks for, and the endings allowed after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// Lowercase text to search for.
    pub stem: String,
    /// Endings accepted between the stem and the end of the word.
    pub endings: &'static [&'static str],
}

const PLAIN: &[&str] = &["", "s", "es", "ed", "ing", "er", "ers", "ings"];
const SHORT: &[&str] = &["", "s"];
const DROP_E: &[&str] = &["e", "es", "ed", "ing", "er", "ers", "ings"];
const Y_TO_I: &[&str] = &["y", "ies", "ied", "ying", "ier"];

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// The search form of a keyword (already lowercase). Only the last word of a phrase inflects.
pub fn form(keyword: &str) -> Form {
    let kw = keyword.trim();
    let last = kw.rsplit(' ').next().unwrap_or(kw);
    let chars: Vec<char> = last.chars().collect();
    let n = chars.len();
    if n <= 3 || !last.chars().all(|c| c.is_ascii_alphabetic()) {
        return Form {
            stem: kw.to_string(),
            endings: SHORT,
        };
    }
    let (end, before) = (chars[n - 1], chars[n - 2]);
    if end == 'e' && !is_vowel(before) {
        return Form {
            stem: kw[..kw.len() - 1].to_string(),
            endings: DROP_E,
        };
    }
    if end == 'y' && !is_vowel(before) {
        return Form {
            stem: kw[..kw.len() - 1].to_string(),
            endings: Y_TO_I,
        };
    }
    Form {
        stem: kw.to_string(),
        endings: PLAIN,
    }
}

/// Whether `rest` (the letters after the stem, up to the end of the word) is an accepted ending.
/// A doubled final consonant is accepted too ("commit" + "t" + "ed").
pub fn accepts(form: &Form, rest: &str) -> bool {
    if form.endings.contains(&rest) {
        return true;
    }
    let last = form.stem.chars().last();
    match (last, rest.chars().next()) {
        (Some(l), Some(r)) if l == r && !is_vowel(l) && form.endings == PLAIN => {
            matches!(&rest[1..], "ed" | "ing" | "er" | "ers")
        }
        _ => false,
    }
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
        word.strip_prefix(f.stem.as_str())
            .is_some_and(|rest| accepts(&f, rest))
    }

    #[test]
    fn inflections_match_and_lookalikes_do_not() {
        assert!(hits("file", "files"));
        assert!(hits("file", "file"));
        assert!(hits("commit", "committed"));
        assert!(hits("commit", "commits"));
        assert!(hits("commit", "committing"));
        assert!(hits("schedule", "scheduling"));
        assert!(hits("query", "queries"));
        assert!(hits("remember", "remembered"));
        assert!(hits("pull request", "pull requests"));
        assert!(!hits("file", "filesystem"));
        assert!(!hits("time", "timeline"));
        assert!(!hits("git", "gitter"));
        assert!(hits("git", "git"));
    }
}
