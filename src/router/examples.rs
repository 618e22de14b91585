//! Examples as rules: from the prompts an admin writes per server (`examples = [...]`), the
//! words that tell that server apart, weighted by how few servers share them (idf over each
//! server's whole vocabulary: keywords, related words, example words, catalog words). A word
//! every server has says nothing; a word only one server has says most.

use std::collections::{HashMap, HashSet};

/// Points of an example word only one server has (times its idf for shared words). Chosen on
/// the development half of `router-config/eval-personas-*.jsonl` (README, "Prompt routing").
pub const EXAMPLE_WEIGHT: f64 = 1.0;

/// Share of [`EXAMPLE_WEIGHT`] a word gives that only one of a server's examples has: a word two
/// or more of them share is what they are about, a lone one may be any word of one sentence
/// ("table" in "export the sqlite table to csv"). Chosen on the development sets with 18
/// examples a server (README, "Prompt routing").
pub const LONE_EXAMPLE_SHARE: f64 = 0.5;

/// The points share of a word `in_examples` of a server's examples have.
pub fn share(in_examples: usize) -> f64 {
    match in_examples {
        0 | 1 => LONE_EXAMPLE_SHARE,
        _ => 1.0,
    }
}

/// The distinct content words of `examples`: lowercase, three letters or more, no digits, not
/// one of NLTK's English stop words.
pub fn words(examples: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in examples {
        for w in e.split(|c: char| !c.is_ascii_alphabetic()) {
            let w = w.to_ascii_lowercase();
            if w.len() >= 3 && !is_stop_word(&w) && !out.contains(&w) {
                out.push(w);
            }
        }
    }
    out
}

/// Whether `word` (lowercase) is one of NLTK's English stop words (crate `stop-words`), or one
/// written as chat writes it: without its apostrophe ("dont", "isnt", "its") or with a bare
/// "s" for "'s" ("whats", "thats", "hows"), which are not words a server is about.
pub fn is_stop_word(word: &str) -> bool {
    // Built once: the router is rebuilt on every catalog change, for every server.
    static STOP: std::sync::LazyLock<HashSet<String>> = std::sync::LazyLock::new(|| {
        let listed = stop_words::get("en").iter();
        listed.map(|w| w.replace('\'', "")).collect()
    });
    STOP.contains(word) || word.strip_suffix('s').is_some_and(|w| STOP.contains(w))
}

/// Inverse document frequency over servers, in [0, 1]: 1 when one of `n` servers has the
/// word, 0 when all do (`ln(n/df) / ln n`).
pub fn idf(df: usize, n: usize) -> f64 {
    if n <= 1 || df == 0 {
        return 1.0;
    }
    ((n as f64 / df as f64).ln() / (n as f64).ln()).clamp(0.0, 1.0)
}

/// How many servers have each key (each server's keys counted once).
pub fn document_frequency<'a>(
    vocabularies: impl IntoIterator<Item = &'a HashSet<String>>,
) -> HashMap<&'a str, usize> {
    let mut df: HashMap<&str, usize> = HashMap::new();
    for v in vocabularies {
        for k in v {
            *df.entry(k.as_str()).or_default() += 1;
        }
    }
    df
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_words_and_idf() {
        let w = words(&["Pencil in a call with Sam on Friday's agenda".into()]);
        assert_eq!(w, ["pencil", "call", "sam", "friday", "agenda"]);
        let chat = words(&["whats the diff, dont know hows it going".into()]);
        assert_eq!(chat, ["diff", "know", "going"]);
        assert_eq!(idf(1, 19), 1.0);
        assert_eq!(idf(19, 19), 0.0);
        assert!((idf(2, 19) - 0.765).abs() < 0.01, "{}", idf(2, 19));
        assert_eq!(idf(1, 1), 1.0);
        assert_eq!(
            (share(1), share(2), share(5)),
            (LONE_EXAMPLE_SHARE, 1.0, 1.0)
        );
    }
}
