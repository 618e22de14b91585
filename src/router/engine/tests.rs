//! Scoring: boundaries, inflection, traceable points, determinism, negatives, catalog words.

use super::*;
use crate::config::Weighted;

fn w(t: &str, weight: f64) -> Weighted {
    Weighted {
        text: t.to_string(),
        weight,
    }
}

fn server(
    name: &str,
    keywords: &[(&str, f64)],
    patterns: &[(&str, f64)],
    negative: &[&str],
) -> ServerInput {
    ServerInput {
        name: Arc::from(name),
        rules: Rules {
            keywords: keywords.iter().map(|(k, x)| w(k, *x)).collect(),
            patterns: patterns.iter().map(|(p, x)| w(p, *x)).collect(),
            negative: negative.iter().map(|n| w(n, 1.0)).collect(),
            ..Default::default()
        },
        tools: Vec::new(),
        name_words: Vec::new(),
    }
}

fn engine() -> Engine {
    Engine::build(
        &[
            server(
                "time",
                &[("time", 2.0), ("timezone", 3.0)],
                &[(r"\bwhat time is it\b", 3.0)],
                &[],
            ),
            server("files", &[("file", 2.0), ("folder", 1.0)], &[], &["github"]),
            server("git", &[("commit", 2.0), ("pull request", 1.0)], &[], &[]),
            server(
                "github",
                &[("pull request", 3.0), ("request", 1.0)],
                &[],
                &[],
            ),
        ],
        0.5,
    )
}

fn score_of(ranking: &[Scored], name: &str) -> Option<f64> {
    ranking.iter().find(|s| &*s.server == name).map(|s| s.score)
}

#[test]
fn words_match_on_boundaries_and_through_inflection() {
    let e = engine();
    assert!(
        e.score("sometimes it works").is_empty(),
        "'time' inside 'sometimes' must not fire"
    );
    let r = e.score("copy the Files into the new folder");
    assert_eq!(score_of(&r, "files"), Some(3.0));
    let r = e.score("what was committed yesterday?");
    assert_eq!(score_of(&r, "git"), Some(2.0));
    assert!(e.score("a filesystem question").is_empty());
}

#[test]
fn every_point_is_traced_to_a_match() {
    let e = engine();
    let prompt = "What time is it in my timezone? time flies";
    let r = e.score(prompt);
    let time = r.iter().find(|s| &*s.server == "time").unwrap();
    let sum: f64 = time.matches.iter().map(|m| m.points).sum();
    assert!((sum - time.score).abs() < 1e-9, "{time:?}");
    // "time" counts once however often it occurs; the pattern adds its own points.
    assert_eq!(time.score, 2.0 + 3.0 + 3.0);
    for m in time.matches.iter().filter(|m| m.kind == Kind::Keyword) {
        assert!(
            prompt[m.start..m.end].to_lowercase().starts_with(&*m.term),
            "{m:?}"
        );
    }
    let p = time
        .matches
        .iter()
        .find(|m| m.kind == Kind::Pattern)
        .unwrap();
    assert_eq!(&prompt[p.start..p.end], "What time is it");
}

#[test]
fn phrases_beat_their_words_and_negatives_subtract() {
    let e = engine();
    let r = e.score("review my pull request and the file it changes on github");
    // "pull request" (github 3, git 1); the inner "request" is not counted again.
    assert_eq!(score_of(&r, "github"), Some(3.0));
    assert_eq!(score_of(&r, "git"), Some(1.0));
    // files: "file" +2, "github" -1.
    assert_eq!(score_of(&r, "files"), Some(1.0));
}

#[test]
fn ranking_is_deterministic_with_ties_in_configuration_order() {
    let e = Engine::build(
        &[
            server("b", &[("shared", 1.0)], &[], &[]),
            server("a", &[("shared", 1.0)], &[], &[]),
        ],
        0.5,
    );
    for _ in 0..10 {
        let r = e.score("a shared word");
        let names: Vec<&str> = r.iter().map(|s| &*s.server).collect();
        assert_eq!(names, ["b", "a"]);
    }
}

#[test]
fn catalog_words_route_without_rules_and_rank_tools() {
    let mut s = server("weatherish", &[], &[], &[]);
    let tool = |name: &str, words: &[&str]| ToolWords {
        name: Arc::from(name),
        words: words.iter().map(|w| w.to_string()).collect(),
        from_name: 1,
    };
    s.tools = vec![
        tool("w__get_forecast", &["forecast", "weather"]),
        tool("w__get_alerts", &["alerts", "weather"]),
    ];
    let e = Engine::build(&[s], 0.5);
    let r = e.score("any weather alerts for Denver?");
    // "alerts" is a word of a tool's name (0.5); "weather" only of descriptions (half of 0.5).
    assert_eq!(r[0].score, 0.75);
    assert_eq!(&*r[0].tools[0], "w__get_alerts");
    assert!(r[0].matches.iter().all(|m| m.kind == Kind::Catalog));
    // Weight 0 turns catalog words off.
    let e = Engine::build(&[server("x", &[], &[], &[])], 0.0);
    assert!(e.score("weather").is_empty());
}

#[test]
fn a_url_counts_once_as_the_thing_a_catalog_fetches() {
    let with = |name: &str, tool: &str, words: &[&str]| ServerInput {
        tools: vec![ToolWords {
            name: Arc::from(tool),
            words: words.iter().map(|w| w.to_string()).collect(),
            from_name: 1,
        }],
        ..server(name, &[], &[], &[])
    };
    let e = Engine::build(
        &[
            with("notes", "notes__open_nodes", &["open", "nodes"]),
            with("fetch", "fetch__fetch", &["fetch", "url", "internet"]),
        ],
        0.5,
    );
    let prompt = "open https://example.com/timetable";
    let r = e.score(prompt);
    // "url" and "internet" are description words (0.25 each): the URL is one thing, its best
    // word once, at IMPLIED_FACTOR times: 0.75, above "open" of a tool's name (0.5).
    assert_eq!((&*r[0].server, r[0].score), ("fetch", 0.75), "{r:?}");
    let m = &r[0].matches;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(
        (m[0].kind, m[0].start, m[0].end),
        (Kind::Catalog, 5, prompt.len())
    );
    assert_eq!(&*r[0].tools[0], "fetch__fetch");
    assert_eq!((&*r[1].server, r[1].score), ("notes", 0.5));
}

#[test]
fn a_servers_name_counts_and_hears_the_words_wordnet_relates_to_it() {
    let named = |name: &str| ServerInput {
        name_words: vec![name.into()],
        ..server(name, &[], &[], &[])
    };
    let e = Engine::build(&[named("memory"), named("other")], 0.5);
    // Its name, as a tool name's word: the whole catalog weight (idf 1: one server has it).
    let r = e.score("what is in memory");
    assert_eq!((&*r[0].server, r[0].score), ("memory", 0.5));
    assert_eq!(r[0].matches[0].kind, Kind::Catalog);
    // WordNet relates "remember" to "memory": half the points, explained as a related word.
    let r = e.score("remember that I parked on level 3");
    assert_eq!((&*r[0].server, r[0].score), ("memory", 0.25));
    let m = &r[0].matches[0];
    assert_eq!((m.kind, &*m.term), (Kind::Synonym, "remember"));
    assert_eq!(m.of.as_deref(), Some("memory"));
    // A server whose name does not count (an endpoint leaves it out) has no such words.
    let unnamed = server("memory", &[], &[], &[]);
    assert!(Engine::build(&[unnamed], 0.5)
        .score("remember it")
        .is_empty());
}

#[test]
fn outermost_keeps_exactly_what_the_quadratic_filter_kept() {
    // The filter it replaced: drop a match when another strictly longer one contains it.
    let naive = |spans: &[(usize, usize, usize)]| -> Vec<(usize, usize, usize)> {
        spans
            .iter()
            .copied()
            .filter(|&(s, e, _)| {
                !spans
                    .iter()
                    .any(|&(s2, e2, _)| s2 <= s && e <= e2 && (e2 - s2) > (e - s))
            })
            .collect()
    };
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n) as usize
    };
    for _ in 0..2000 {
        let count = next(12);
        let spans: Vec<(usize, usize, usize)> = (0..count)
            .map(|t| {
                let s = next(20);
                (s, s + 1 + next(8), t)
            })
            .collect();
        let mut want = naive(&spans);
        let mut got = outermost(spans.clone());
        want.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, want, "{spans:?}");
    }
}

mod fuzz {
    //! The engine under arbitrary prompts (`fuzz_*`): every point is a match inside the prompt,
    //! and the same prompt always scores the same.
    use super::*;
    use proptest::prelude::*;

    thread_local! {
        static ENGINE: Engine = engine();
    }

    proptest! {
        #[test]
        fn fuzz_every_point_is_a_match_inside_the_prompt(
            words in prop::collection::vec(
                prop_oneof![
                    Just("time".to_string()), Just("timezone".to_string()), Just("file".to_string()),
                    Just("files".to_string()), Just("commit".to_string()), Just("committed".to_string()),
                    Just("pull".to_string()), Just("request".to_string()), Just("github".to_string()),
                    Just("what time is it".to_string()), "\\PC{0,8}",
                ],
                0..40,
            ),
            glue in prop::sample::select(vec![" ", "", ", ", "-", "\n", "é", "/"]),
        ) {
            let prompt = words.join(glue);
            ENGINE.with(|e| {
                let first = e.score(&prompt);
                for s in &first {
                    let sum: f64 = s.matches.iter().map(|m| m.points).sum();
                    prop_assert!((sum - s.score).abs() < 0.01, "{} != {}", sum, s.score);
                    prop_assert!(s.score > 0.0);
                    for m in &s.matches {
                        prop_assert!(m.start <= m.end && m.end <= prompt.len());
                        prop_assert!(prompt.is_char_boundary(m.start) && prompt.is_char_boundary(m.end));
                        prop_assert!(m.points != 0.0);
                    }
                }
                let again = e.score(&prompt);
                let names = |r: &[Scored]| r.iter().map(|s| (s.server.clone(), s.score.to_bits())).collect::<Vec<_>>();
                prop_assert_eq!(names(&first), names(&again));
                Ok(())
            })?;
        }
    }
}

#[test]
fn what_is_inside_an_address_names_the_mailbox() {
    let e = Engine::build(
        &[
            server("chat", &[], &[(r"@\w+", 1.0)], &[]),
            server("finance", &[("finance", 1.0)], &[], &[]),
            server("web", &[], &[(r"\b\w+\.com\b", 1.5)], &[]),
        ],
        0.5,
    );
    // The address is an email's: none of its parts is a mention, a word or a web host.
    let r = e.score("send the report to finance@acme.com");
    assert!(r.is_empty(), "{r:?}");
    // A pattern's match inside the address does not hide its match outside it.
    let prompt = "forward finance@acme.com to @sam";
    let r = e.score(prompt);
    assert_eq!(r.len(), 1, "{r:?}");
    let m = &r[0].matches;
    assert_eq!((&*r[0].server, m.len()), ("chat", 1), "{m:?}");
    assert_eq!(&prompt[m[0].start..m[0].end], "@sam");
}

#[test]
fn a_word_counts_once_per_server_however_many_terms_it_is_a_form_of() {
    // "row" matches as written (three letters), "rows" by its stem: two terms, one word.
    let e = Engine::build(
        &[
            server("db", &[("row", 1.0), ("rows", 2.0)], &[], &[]),
            server("other", &[("rows", 1.0)], &[], &[]),
        ],
        0.5,
    );
    let r = e.score("delete the rows");
    assert_eq!(score_of(&r, "db"), Some(2.0), "the best of the two: {r:?}");
    assert_eq!(r[0].matches.len(), 1, "{r:?}");
    assert_eq!(score_of(&r, "other"), Some(1.0));
    // Where the word occurs twice, each of its terms may count once.
    let r = e.score("row after rows");
    assert_eq!(score_of(&r, "db"), Some(3.0), "{r:?}");
}

#[test]
fn an_example_word_that_is_a_keyword_in_another_form_is_the_keyword() {
    let with_example = ServerInput {
        rules: Rules {
            keywords: vec![w("rows", 1.0)],
            examples: vec!["insert a row for today".into()],
            ..Default::default()
        },
        ..server("db", &[], &[], &[])
    };
    let e = Engine::build(
        &[with_example, server("x", &[("file", 1.0)], &[], &[])],
        0.5,
    );
    let r = e.score("add a row");
    let kinds: Vec<Kind> = r[0].matches.iter().map(|m| m.kind).collect();
    assert_eq!(kinds, [Kind::Keyword], "{r:?}");
}
