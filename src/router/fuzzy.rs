//! Typo tolerance: a prompt word the automaton did not match is looked up among the vocabulary's
//! single words (keywords and catalog words) within a small edit distance, SymSpell-style: every
//! vocabulary word is indexed with each of its one-letter deletions, and a prompt word finds its
//! candidates through its own (a substitution is one deletion on each side, an insertion or a
//! deletion one on one side), then each candidate is checked with the optimal string alignment
//! distance. One hash lookup per deletion, so the cost follows the prompt's long unmatched words,
//! not the vocabulary's size.
//!
//! Hand-written rather than a crate: the index must hold the engine's own term numbers and be
//! built with it; the SymSpell crates carry their own dictionaries and frequency models.
//!
//! The rules, each chosen on the project's eval sets (see README "Prompt routing"):
//! - words shorter than [`MIN_LEN`] letters are never fuzzy ("bug"/"big", "tag"/"tab");
//! - a real English word is never a slip: "store" is not "storm", "summit" not "submit" (the
//!   30,000 most frequent English words of PyPI `wordfreq`, in `router-config/english-words.txt`,
//!   which `router-config/english_words.py` regenerates; both were false matches on the eval
//!   set before this rule);
//! - distance 1 up to 7 letters, 2 from [`LONG`] letters ("repositry", "calender" are 1; a
//!   double slip needs a long word to stay unambiguous);
//! - the first letter must agree (people rarely mistype it; "feather" is not "weather");
//! - a common ending is tried off too ("calenders", "comitted");
//! - a fuzzy match gives [`FACTOR`] of the term's points.

use rustc_hash::FxHashMap;

/// Shortest word matched fuzzily.
pub const MIN_LEN: usize = 5;
/// Words this long allow two edits.
pub const LONG: usize = 8;
/// Share of a term's points a fuzzy match gives.
pub const FACTOR: f64 = 0.6;

const ENDINGS: [&str; 4] = ["ing", "ed", "es", "s"];

/// Frequent English words (five letters or more): never taken for a slip.
const ENGLISH: &str = include_str!("../../router-config/english-words.txt");

fn english(word: &str) -> bool {
    static WORDS: std::sync::OnceLock<rustc_hash::FxHashSet<&'static str>> =
        std::sync::OnceLock::new();
    WORDS
        .get_or_init(|| ENGLISH.lines().collect())
        .contains(word)
}

/// The index over the vocabulary's single words.
#[derive(Debug, Default)]
pub struct Fuzzy {
    /// A word or one of its one-letter deletions -> the terms it can come from.
    deletes: FxHashMap<Box<str>, Vec<u32>>,
    /// Each indexed term's word (lowercase ASCII), by term number.
    words: FxHashMap<u32, Box<str>>,
}

impl Fuzzy {
    /// Index `terms` (term number, its word); phrases and short or non-ASCII words are skipped.
    pub fn build<'a>(terms: impl Iterator<Item = (u32, &'a str)>) -> Fuzzy {
        let mut f = Fuzzy::default();
        for (t, word) in terms {
            if word.len() < MIN_LEN || !word.bytes().all(|b| b.is_ascii_lowercase()) {
                continue;
            }
            f.words.insert(t, word.into());
            for d in std::iter::once(word.to_string()).chain(deletions(word)) {
                let hits = f.deletes.entry(d.into()).or_default();
                if !hits.contains(&t) {
                    hits.push(t);
                }
            }
        }
        f
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The terms `word` (lowercase ASCII) is a slip of, nearest first; not the word itself.
    pub fn lookup(&self, word: &str) -> Vec<u32> {
        if word.len() < MIN_LEN || english(word) {
            return Vec::new();
        }
        let mut found: Vec<(usize, u32)> = Vec::new();
        let bare = ENDINGS
            .iter()
            .filter_map(|e| word.strip_suffix(e))
            .find(|w| w.len() >= MIN_LEN);
        let mut d = String::with_capacity(word.len());
        for w in std::iter::once(word).chain(bare) {
            let max = if w.len() >= LONG { 2 } else { 1 };
            for i in 0..=w.len() {
                // i == len: the word itself; else the word without its i-th letter.
                d.clear();
                d.push_str(&w[..i.min(w.len())]);
                if i < w.len() {
                    d.push_str(&w[i + 1..]);
                } else {
                    d.clear();
                    d.push_str(w);
                }
                let Some(hits) = self.deletes.get(d.as_str()) else {
                    continue;
                };
                for &t in hits {
                    let target = &self.words[&t];
                    if **target == *w || target.as_bytes()[0] != w.as_bytes()[0] {
                        continue;
                    }
                    let dist = distance(w, target);
                    if dist <= max && !found.iter().any(|&(_, f)| f == t) {
                        found.push((dist, t));
                    }
                }
            }
        }
        found.sort_unstable();
        found.into_iter().map(|(_, t)| t).collect()
    }
}

/// Every one-letter deletion of `word` (ASCII).
fn deletions(word: &str) -> impl Iterator<Item = String> + '_ {
    (0..word.len()).map(move |i| {
        let mut s = String::with_capacity(word.len() - 1);
        s.push_str(&word[..i]);
        s.push_str(&word[i + 1..]);
        s
    })
}

/// Optimal string alignment distance (edits, with adjacent transpositions) of two ASCII words.
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> Fuzzy {
        let words = [
            "calendar",
            "commit",
            "forecast",
            "repository",
            "weather",
            "branch",
        ];
        Fuzzy::build(words.iter().enumerate().map(|(i, w)| (i as u32, *w)))
    }

    fn found(f: &Fuzzy, word: &str) -> Vec<u32> {
        f.lookup(word)
    }

    #[test]
    fn one_slip_in_the_decisive_word_is_forgiven() {
        let f = index();
        assert_eq!(found(&f, "calender"), [0]);
        assert_eq!(found(&f, "comit"), [1]);
        assert_eq!(found(&f, "forcast"), [2]);
        assert_eq!(found(&f, "repositry"), [3]);
        assert_eq!(found(&f, "wether"), [4]);
        assert_eq!(
            found(&f, "whaeter"),
            Vec::<u32>::new(),
            "two edits in a 7-letter word"
        );
        assert_eq!(found(&f, "calenders"), [0], "an ending comes off");
        assert_eq!(found(&f, "reposiotry"), [3], "a transposition is one edit");
        assert_eq!(
            found(&f, "repostiroy"),
            Vec::<u32>::new(),
            "three edits are too many"
        );
    }

    #[test]
    fn short_words_first_letters_and_exact_words_are_not_fuzzy() {
        let f = index();
        assert!(
            found(&f, "qeather").is_empty(),
            "the first letter must agree"
        );
        let real = Fuzzy::build([(0, "storm"), (1, "submit")].into_iter());
        assert!(
            found(&real, "store").is_empty(),
            "a real word is not a slip"
        );
        assert!(
            found(&real, "summit").is_empty(),
            "a real word is not a slip"
        );
        assert_eq!(found(&real, "stomr"), [0]);
        assert!(
            found(&f, "commit").is_empty(),
            "an exact word is the automaton's"
        );
        let short = Fuzzy::build([(0, "tag")].into_iter());
        assert!(short.is_empty());
        assert!(found(&f, "brnh").is_empty(), "below five letters");
    }

    #[test]
    fn the_distance_counts_edits_and_transpositions() {
        assert_eq!(distance("calender", "calendar"), 1);
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }
}
