//! Scoring cost of the router: a 200-byte and a 4 KB prompt against 10, 100 and 1,000 servers
//! (12 keywords, 2 patterns, 3 example prompts, 4 catalog tools and a name word each,
//! generated; typo tolerance on). Run with: `cargo bench --bench routing`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;
use switchboard::config::{Rules, Weighted};
use switchboard::router::{Engine, ServerInput, ToolWords};

/// A deterministic pseudo-random word (xorshift), so every run scores the same fleet.
fn word(seed: &mut u64) -> String {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ser", "ta", "ven", "dor", "pli", "qua", "ris", "no", "bex", "tu", "gan",
        "fe", "wy",
    ];
    let mut w = String::new();
    for _ in 0..4 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        w.push_str(SYLLABLES[(*seed % SYLLABLES.len() as u64) as usize]);
    }
    w
}

fn fleet(servers: usize) -> (Engine, Vec<String>) {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut vocabulary = Vec::new();
    let inputs: Vec<ServerInput> = (0..servers)
        .map(|i| {
            let keywords: Vec<Weighted> = (0..12)
                .map(|_| {
                    let w = word(&mut seed);
                    vocabulary.push(w.clone());
                    Weighted {
                        text: w,
                        weight: 1.0,
                    }
                })
                .collect();
            let patterns = vec![
                Weighted {
                    text: format!(r"\b{}\s+\w+\s+{}\b", keywords[0].text, keywords[1].text),
                    weight: 2.0,
                },
                Weighted {
                    text: format!(r"\b(show|find) {}\b", keywords[2].text),
                    weight: 1.5,
                },
            ];
            let examples = (0..3)
                .map(|_| {
                    let words: Vec<String> = (0..4).map(|_| word(&mut seed)).collect();
                    format!(
                        "please {} the {} for {} and {}",
                        words[0], words[1], words[2], words[3]
                    )
                })
                .collect();
            let tools = (0..4)
                .map(|t| ToolWords {
                    name: Arc::from(format!("server{i}__tool{t}")),
                    words: (0..3).map(|_| word(&mut seed)).collect(),
                    from_name: 1,
                })
                .collect();
            ServerInput {
                name: Arc::from(format!("server{i}")),
                rules: Rules {
                    keywords,
                    patterns,
                    examples,
                    ..Rules::default()
                },
                tools,
                name_words: vec![word(&mut seed)],
            }
        })
        .collect();
    (Engine::build(&inputs, 0.5), vocabulary)
}

/// A prompt of about `len` bytes: ordinary English with a few fleet words mixed in.
fn prompt(len: usize, vocabulary: &[String]) -> String {
    let filler = "please could you check what happened with the thing we talked about yesterday and tell me ";
    let mut p = String::new();
    let mut i = 0;
    while p.len() < len {
        p.push_str(&filler[..filler.len().min(len - p.len())]);
        if p.len() < len {
            p.push_str(&vocabulary[(i * 7919) % vocabulary.len()]);
            p.push(' ');
        }
        i += 1;
    }
    p.truncate(len);
    p
}

fn scoring(c: &mut Criterion) {
    let mut group = c.benchmark_group("score");
    for servers in [10usize, 100, 1000] {
        let (engine, vocabulary) = fleet(servers);
        for len in [200usize, 4096] {
            let text = prompt(len, &vocabulary[..120.min(vocabulary.len())]);
            group.throughput(Throughput::Bytes(len as u64));
            group.bench_with_input(
                BenchmarkId::new(format!("{len}B"), servers),
                &text,
                |b, t| b.iter(|| black_box(engine.score(black_box(t))).len()),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, scoring);
criterion_main!(benches);
