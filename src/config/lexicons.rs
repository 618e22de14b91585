//! The lexicons rules can name, generated from real data by the scripts in `router-config/`:
//! gazetteers (places) and thesauri (related words), with the points each gives.

use super::rules::{Synonym, Weighted};
use super::ConfigError;
use std::collections::HashMap;

/// The thesauri a rule set can name (`synonyms = "wordnet"`): generated from a real lexical
/// database by the scripts beside them in `router-config/` (`keyword: word, word` per line).
pub const THESAURI: &[(&str, &str)] = &[(
    "wordnet",
    include_str!("../../router-config/synonyms-wordnet.txt"),
)];

/// Share of a keyword's points a related word gives. Chosen on the development half of
/// `router-config/eval-personas-*.jsonl` (see the README's "Prompt routing": how each weight
/// was chosen).
pub const SYNONYM_FACTOR: f64 = 0.5;

/// Words WordNet relates to common English words (`word: related, related` per line, generated
/// by `router-config/related_wordnet.py`): what a tool catalog's words and a server's name also
/// hear, below the word itself, with no rule written ("memory" hears "remember").
const RELATED: &str = include_str!("../../router-config/related-wordnet.txt");

/// The words related to `word` (lowercase) in [`RELATED`]; none for a word it does not hold.
pub fn related_to(word: &str) -> &'static [&'static str] {
    static MAP: std::sync::LazyLock<HashMap<&str, Vec<&str>>> =
        std::sync::LazyLock::new(|| entries(RELATED).collect());
    MAP.get(word).map_or(&[], Vec::as_slice)
}

/// The entries of a thesaurus's text (`word: related, related` per line; `#` starts a comment
/// line).
fn entries(text: &str) -> impl Iterator<Item = (&str, Vec<&str>)> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(w, rest)| {
            let related = rest.split(',').map(str::trim).filter(|r| !r.is_empty());
            (w.trim(), related.collect())
        })
}

/// The gazetteers a rule set can name (`gazetteer = "timezones"`): generated from real data
/// by the scripts beside them in `router-config/`.
pub const GAZETTEERS: &[(&str, &str)] = &[(
    "timezones",
    include_str!("../../router-config/gazetteer-timezones.txt"),
)];

/// Points a gazetteer match gives: below a keyword's and the default threshold, so a place alone
/// never selects a server (a city is also weather, maps, search), but it ranks the server that
/// knows it first when nothing else is said. Chosen on `router-config/eval.jsonl` (precision@1
/// 0.865 without): 0.3 changed nothing; 0.5 gave 0.869 (Reykjavik's hour routes to `time`); 1.0
/// gave 0.873 (Helsinki's sunrise too) but then a city alone reaches the threshold and selects
/// `time` ("how many people live in Lagos?"), so 0.5.
pub const GAZETTEER_WEIGHT: f64 = 0.5;

/// Catalog words that call for a gazetteer: a server whose tools speak of time zones knows the
/// places in the time-zone database, rules or none (`router::Router::build`).
pub const CATALOG_GAZETTEERS: &[(&str, &[&str])] = &[("timezones", &["timezone", "timezones"])];

/// The entries of a gazetteer's text, one place per line.
pub fn places(text: &str) -> Vec<Weighted> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| Weighted {
            text: l.to_string(),
            weight: GAZETTEER_WEIGHT,
        })
        .collect()
}

/// The gazetteer a catalog's words call for ([`CATALOG_GAZETTEERS`]), if any.
pub fn gazetteer_for<'a>(mut words: impl Iterator<Item = &'a str>) -> Option<Vec<Weighted>> {
    let (name, _) = words.find_map(|w| {
        CATALOG_GAZETTEERS
            .iter()
            .find(|(_, calls)| calls.contains(&w))
    })?;
    let (_, text) = GAZETTEERS.iter().find(|(n, _)| n == name)?;
    Some(places(text))
}

/// A named list of `(name, text)`, or an error naming the field and the known names.
pub(super) fn named<'a>(
    lists: &[(&str, &'a str)],
    name: &str,
    what: &str,
    file: &str,
    field: &str,
) -> Result<&'a str, ConfigError> {
    lists
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, l)| *l)
        .ok_or_else(|| {
            let known: Vec<&str> = lists.iter().map(|(n, _)| *n).collect();
            ConfigError::invalid(
                file,
                field,
                format!("no {what} is named {name:?} (known: {})", known.join(", ")),
            )
        })
}

/// The related words `table` has for `keywords`, each below its keyword.
pub(super) fn related(table: &str, keywords: &[Weighted]) -> Vec<Synonym> {
    let mut out = Vec::new();
    for (word, related) in entries(table) {
        let Some(k) = keywords.iter().find(|k| k.text == word) else {
            continue;
        };
        for r in related {
            out.push(Synonym {
                text: r.to_string(),
                weight: k.weight * SYNONYM_FACTOR,
                of: k.text.clone(),
            });
        }
    }
    out
}
