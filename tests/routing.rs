//! Prompt routing end to end: `switchboard eval` on the shipped set, `/analyze`, `/route`,
//! `switchboard analyze`, routing of un-prefixed tool calls, the search tools, lazy start, every
//! kind of evidence, the persona halves and zero-rules routing over real servers.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::Command;

fn demo(name: &str, kit: &str, extra: &str) -> String {
    format!(
        "[servers.{name}]\ncommand = \"{bin}\"\nargs = [\"demo-server\", \"--kit\", \"{kit}\"]\n{extra}\n",
        bin = switchboard_bin()
    )
}

fn manifest(p: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// What `cmd` prints, as one JSON document; it must succeed.
fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `switchboard eval --json` on a shipped set (the built-in rules on one server per rule set).
fn eval_json(set: &str) -> Value {
    json_of(
        Command::new(switchboard_bin())
            .args(["eval", "--json"])
            .arg(manifest(set)),
    )
}

#[test]
fn eval_on_the_shipped_set_meets_its_floor() {
    let r = eval_json("router-config/eval.jsonl");
    let cases = r["cases"].as_u64().unwrap();
    assert!(cases >= 150, "{cases} prompts");
    // At least 30% of the prompts hold no configured keyword in any inflection (81 of 259 with
    // the Snowball stemmer; 88 with the hand-written endings before it).
    assert!(
        r["without_keywords"].as_u64().unwrap() * 10 >= cases * 3,
        "{r}"
    );
    // Floors set a little under what the shipped rules reach (0.865 and 0.903 when written).
    assert!(
        r["precision_at_1"].as_f64().unwrap() >= 0.80,
        "precision@1 {}",
        r["precision_at_1"]
    );
    assert!(
        r["recall_at_3"].as_f64().unwrap() >= 0.85,
        "recall@3 {}",
        r["recall_at_3"]
    );
    // The readable form says the same.
    let text = Command::new(switchboard_bin())
        .arg("eval")
        .arg(manifest("router-config/eval.jsonl"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("precision@1:") && text.contains("recall@3:"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_explains_every_point() {
    // A server named "weather" picks up the built-in weather rules by itself.
    let config = demo("weather", "text", "")
        + &demo(
            "math",
            "math",
            "keywords = [{ term = \"sum\", weight = 2 }]",
        );
    let gw = Gateway::start("switchboard.toml", &config);
    let http = reqwest::Client::new();
    let prompt = "Will it rain tomorrow? Should I bring an umbrella?";
    let a: Value = http
        .get(format!("{}/analyze", gw.base))
        .query(&[("prompt", prompt), ("top", "3")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["prompt"], prompt);
    assert_eq!(a["ranking"][0]["server"], "weather", "{a}");
    assert_eq!(a["selected"], json!(["weather"]), "{a}");
    let matches = a["ranking"][0]["matches"].as_array().unwrap();
    let mut total = 0.0;
    for m in matches {
        let (s, e) = (
            m["start"].as_u64().unwrap() as usize,
            m["end"].as_u64().unwrap() as usize,
        );
        assert!(e > s && e <= prompt.len(), "{m}");
        assert!(
            [
                "keyword",
                "pattern",
                "catalog",
                "fuzzy",
                "example",
                "gazetteer",
                "synonym",
                "negative"
            ]
            .contains(&m["kind"].as_str().unwrap()),
            "{m}"
        );
        total += m["points"].as_f64().unwrap();
    }
    assert!(
        (total - a["ranking"][0]["score"].as_f64().unwrap()).abs() < 1e-6,
        "{a}"
    );
    assert!(
        matches
            .iter()
            .any(|m| m["kind"] == "keyword" && m["term"] == "umbrella"),
        "{a}"
    );
    assert!(matches.iter().any(|m| m["kind"] == "pattern"), "{a}");

    // POST works the same; the configured keyword and the catalog words of math's tools count.
    let a: Value = post_json(
        &format!("{}/analyze", gw.base),
        &json!({ "prompt": "what is the sum when you add 2 and 40", "top": 1 }),
    )
    .await;
    assert_eq!(a["ranking"].as_array().unwrap().len(), 1);
    assert_eq!(a["ranking"][0]["server"], "math");
    assert_eq!(a["ranking"][0]["tools"][0], "math__add", "{a}");
    let kinds: Vec<&str> = a["ranking"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"keyword") && kinds.contains(&"catalog"),
        "{a}"
    );

    let missing = http
        .get(format!("{}/analyze", gw.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let bad = http
        .post(format!("{}/analyze", gw.base))
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // A web page's form post (no JSON content type) is refused before anything runs.
    let form = http
        .post(format!("{}/analyze", gw.base))
        .header("content-type", "text/plain")
        .body(r#"{"prompt":"x","start":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    // A prompt over router.max_prompt_bytes: 413 naming the limit.
    let long = http
        .post(format!("{}/analyze", gw.base))
        .json(&json!({ "prompt": "word ".repeat(20_000) }))
        .send()
        .await
        .unwrap();
    assert_eq!(long.status(), 413);
    let body: Value = long.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("router.max_prompt_bytes"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_calls_the_best_server_and_explains_why() {
    // "weather" takes the built-in weather rules; its one tool is the fixture's echo.
    let config = demo("text", "text", "")
        + &demo("math", "math", "")
        + &format!(
            "[servers.weather]\ncommand = \"{}\"\nargs = [\"fixture\"]\n",
            switchboard_bin()
        );
    let gw = Gateway::start("switchboard.toml", &config);
    let http = reqwest::Client::new();
    let r: Value = post_json(&format!("{}/route", gw.base), &json!({ "prompt": "add these two numbers", "tool": "add", "arguments": { "a": 40, "b": 2 } })).await;
    assert_eq!(r["server"], "math", "{r}");
    assert_eq!(r["tool"], "math__add");
    assert_eq!(r["result"]["content"][0]["text"], "42", "{r}");
    assert_eq!(r["routing"]["ranking"][0]["server"], "math");
    // Without a tool, the best server's best tool for the prompt.
    let r: Value = post_json(
        &format!("{}/route", gw.base),
        &json!({ "prompt": "reverse this text please", "arguments": { "text": "abc" } }),
    )
    .await;
    assert_eq!(r["tool"], "text__reverse", "{r}");
    assert_eq!(r["result"]["content"][0]["text"], "cba", "{r}");
    // The rules chose a server whose one tool no word of the prompt names: that tool.
    let r: Value = post_json(
        &format!("{}/route", gw.base),
        &json!({ "prompt": "do I need an umbrella tomorrow", "arguments": { "message": "hi" } }),
    )
    .await;
    assert_eq!(r["server"], "weather", "{r}");
    assert_eq!(r["tool"], "weather__echo", "{r}");
    assert!(r["result"]["content"][0]["text"].is_string(), "{r}");
    // Nothing to go on: 422 with the (empty) explanation.
    let r = http
        .post(format!("{}/route", gw.base))
        .json(&json!({ "prompt": "zzz qqq" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = http
        .post(format!("{}/route", gw.base))
        .json(&json!({ "prompt": "x", "tool": "no_such_tool" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_no_server_reaches_goes_to_the_fallback() {
    needs_peers!();
    // `router.fallback` names the real everything server; math has a keyword and a catalog.
    let config = format!(
        "[router]\nfallback = \"everything\"\n\n{}[servers.everything]\ncommand = \"node\"\nargs = [\"{}\", \"stdio\"]\n",
        demo("math", "math", "keywords = [\"add\"]"),
        everything_js().display()
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let analyze = |p: &str| format!("{}/analyze?prompt={}", gw.base, p.replace(' ', "+"));
    // Nothing reaches the threshold: the fallback is first, selected, and says why.
    let a = get_json(&analyze("zzz qqq")).await;
    assert_eq!(a["fallback"], "everything", "{a}");
    assert_eq!(a["selected"], json!(["everything"]), "{a}");
    assert_eq!(a["ranking"][0]["server"], "everything", "{a}");
    // A prompt a server reaches (keyword and catalog: 1.5): no fallback.
    let a = get_json(&analyze("please add 2 and 40")).await;
    assert!(a.get("fallback").is_none(), "{a}");
    assert_eq!(a["selected"][0], "math", "{a}");
    // /route acts on it: the named tool on the fallback server, really called.
    let r: Value = post_json(
        &format!("{}/route", gw.base),
        &json!({ "prompt": "zzz qqq", "tool": "echo", "arguments": { "message": "hi there" } }),
    )
    .await;
    assert_eq!(r["server"], "everything", "{r}");
    assert!(
        r["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("hi there")),
        "{r}"
    );
    // The eval measures it the same way: on the persona dev half, prompts meant for `search`
    // that no server reaches are misses without `--fallback search` and answered with it (P@1
    // 0.900 both ways on 2026-12-07, recall@3 0.960 -> 0.973: it also takes a few prompts
    // whose server scored below the threshold).
    let without = eval_json("router-config/eval-personas-dev.jsonl");
    let with = json_of(
        Command::new(switchboard_bin())
            .args(["eval", "--json", "--fallback", "search"])
            .arg(manifest("router-config/eval-personas-dev.jsonl")),
    );
    let missed_search = |r: &Value| -> Vec<String> {
        let misses = r["misses"].as_array().unwrap().iter();
        let for_search = misses.filter(|m| m[1] == json!(["search"]));
        for_search
            .map(|m| m[0].as_str().unwrap().to_string())
            .collect()
    };
    let (before, after) = (missed_search(&without), missed_search(&with));
    assert!(
        before.iter().any(|p| !after.contains(p)),
        "{before:?} vs {after:?}"
    );
    let r3 = |r: &Value| r["recall_at_3"].as_f64().unwrap();
    assert!(r3(&with) > r3(&without), "{with} vs {without}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprefixed_calls_route_by_name_then_by_score() {
    // Two servers offer "echo": the call's arguments decide.
    let config =
        demo("weather", "text", "") + &demo("calendar", "text", "") + &demo("math", "math", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let r = c
        .request(
            1,
            "tools/call",
            json!({ "name": "add", "arguments": { "a": 1, "b": 2 } }),
        )
        .await;
    assert_eq!(
        r["result"]["content"][0]["text"], "3",
        "only math has add: {r}"
    );
    let r = c
        .request(
            2,
            "tools/call",
            json!({ "name": "echo", "arguments": { "text": "reschedule my meeting with Ana" } }),
        )
        .await;
    assert_eq!(
        r["result"]["content"][0]["text"],
        "reschedule my meeting with Ana"
    );
    let r = c
        .request(
            3,
            "tools/call",
            json!({ "name": "echo", "arguments": { "text": "will it rain? bring an umbrella" } }),
        )
        .await;
    assert!(r["result"].is_object(), "{r}");
    let log = gw.log_with("server=calendar scores=").await;
    assert!(log.contains("server=calendar scores="), "{log}");
    let log = gw.log_with("server=weather scores=").await;
    assert!(log.contains("server=weather scores="), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_tools_and_the_lean_search_mode() {
    let config = demo("text", "text", "") + &demo("math", "math", "");
    let gw = Gateway::start("switchboard.toml", &config);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let list = c.request(1, "tools/list", json!({})).await;
    let names = tool_names(&list);
    assert!(
        names.contains(&"switchboard__find_tools") && names.contains(&"math__multiply"),
        "{names:?}"
    );
    let r = c
        .request(2, "tools/call", json!({ "name": "switchboard__find_tools", "arguments": { "query": "multiply two numbers", "limit": 2 } }))
        .await;
    let found = r["result"]["structuredContent"]["tools"]
        .as_array()
        .unwrap();
    assert_eq!(found.len(), 2, "{r}");
    assert_eq!(found[0]["name"], "math__multiply", "{r}");
    assert_eq!(found[0]["server"], "math");

    let lean = "[router]\nexpose = \"search\"\n\n".to_string() + &config;
    let gw = Gateway::start("switchboard.toml", &lean);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let list = c.request(1, "tools/list", json!({})).await;
    let names = tool_names(&list);
    assert_eq!(names, ["switchboard__find_tools", "switchboard__call_tool"]);
    let r = c
        .request(2, "tools/call", json!({ "name": "switchboard__find_tools", "arguments": { "query": "count the words" } }))
        .await;
    assert_eq!(
        r["result"]["structuredContent"]["tools"][0]["name"], "text__word_count",
        "{r}"
    );
    assert!(
        r["result"]["structuredContent"]["tools"][0]["inputSchema"].is_object(),
        "lean mode gives schemas: {r}"
    );
    let r = c
        .request(3, "tools/call", json!({ "name": "switchboard__call_tool", "arguments": { "name": "text__word_count", "arguments": { "text": "one two three" } } }))
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "3", "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_servers_start_when_needed() {
    let config = demo("text", "text", "") + &demo("weather", "math", "lazy = true");
    let gw = Gateway::start("switchboard.toml", &config);
    assert_eq!(
        children_of(gw.pid()).len(),
        1,
        "the lazy server is not started"
    );
    // /analyze selects it (its built-in rules need no catalog), and starts nothing: a GET has
    // no side effects (any web page could send one).
    let http = reqwest::Client::new();
    let prompt = "is it going to snow? I need the forecast";
    let a: Value = http
        .get(format!("{}/analyze", gw.base))
        .query(&[("prompt", prompt), ("start", "true")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["selected"][0], "weather", "{a}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        children_of(gw.pid()).len(),
        1,
        "a GET /analyze started a lazy server"
    );
    let a: Value = post_json(
        &format!("{}/analyze", gw.base),
        &json!({ "prompt": prompt }),
    )
    .await;
    assert_eq!(a["selected"][0], "weather", "{a}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        children_of(gw.pid()).len(),
        1,
        "nor does a POST without start"
    );
    // Asked to (POST, "start": true), it starts what it selects.
    post_json(
        &format!("{}/analyze", gw.base),
        &json!({ "prompt": prompt, "start": true }),
    )
    .await;
    let mut started = false;
    for _ in 0..100 {
        if children_of(gw.pid()).len() == 2 {
            started = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(started, "analyze did not start the lazy server");
    // A lazy server is also started by a call that names it.
    let config = demo("text", "text", "") + &demo("numbers", "math", "lazy = true");
    let gw = Gateway::start("switchboard.toml", &config);
    assert_eq!(children_of(gw.pid()).len(), 1);
    let mut c = RawClient::new(&gw.url);
    c.initialize().await;
    let r = c
        .request(
            1,
            "tools/call",
            json!({ "name": "numbers__add", "arguments": { "a": 2, "b": 2 } }),
        )
        .await;
    assert_eq!(r["result"]["content"][0]["text"], "4", "{r}");
    assert_eq!(children_of(gw.pid()).len(), 2);
}

#[test]
fn seed_router_json_and_rule_files_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mcp-router-config.json"),
        r#"{"server_keywords": {"text": ["palindrome"]}, "task_patterns": {"text": ["backwards.+please"]},
            "default_limits": {"response_timeout": 10, "max_retries": 3, "startup_wait": 5}}"#,
    )
    .unwrap();
    let config = format!(
        "[router]\nrules = [\"mcp-router-config.json\"]\n\n{}",
        demo("text", "text", "")
    );
    std::fs::write(dir.path().join("switchboard.toml"), config).unwrap();
    let a = json_of(
        Command::new(switchboard_bin())
            .args(["analyze", "--offline", "--json", "--config"])
            .arg(dir.path().join("switchboard.toml"))
            .arg("is racecar a palindrome? spell it backwards please"),
    );
    assert_eq!(a["ranking"][0]["server"], "text", "{a}");
    assert_eq!(a["ranking"][0]["score"], 2.0, "{a}");
    // The table form.
    let out = Command::new(switchboard_bin())
        .args(["analyze", "--offline", "--config"])
        .arg(dir.path().join("switchboard.toml"))
        .arg("a palindrome")
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("RANK") && table.contains("text") && table.contains("\"palindrome\""),
        "{table}"
    );
    // A bad regex names the server and the pattern.
    std::fs::write(
        dir.path().join("bad.toml"),
        demo("text", "text", "patterns = [\"ok\", \"(unclosed\"]"),
    )
    .unwrap();
    let out = Command::new(switchboard_bin())
        .args(["analyze", "--offline", "--config"])
        .arg(dir.path().join("bad.toml"))
        .arg("x")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("servers.text.patterns[1]")
            && err.contains("(unclosed"),
        "{err}"
    );
}

#[test]
fn a_typo_in_the_decisive_word_still_routes() {
    // router-config/eval-typos.jsonl: one slip in the word that decides (written with the
    // feature, so a check of it rather than a held-out measurement). 0.95 / 1.0 when written;
    // 0.80 / 0.775 without typo tolerance.
    let r = eval_json("router-config/eval-typos.jsonl");
    assert!(r["precision_at_1"].as_f64().unwrap() >= 0.9, "{r}");
    assert!(r["recall_at_3"].as_f64().unwrap() >= 0.95, "{r}");
    // `/analyze` says what it forgave: kind fuzzy, the term, the prompt's word by offsets.
    let (config, catalog) = switchboard::router::eval::offline_fleet();
    let router = switchboard::router::Router::build(&config, Some(&catalog));
    let prompt = "whats on my calender for thursday";
    let a = serde_json::to_value(router.analyze(prompt, 0)).unwrap();
    assert_eq!(a["selected"][0], "calendar", "{a}");
    let m = a["ranking"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "fuzzy")
        .cloned()
        .unwrap_or_else(|| panic!("no fuzzy match: {a}"));
    assert_eq!(m["term"], "calendar");
    let (s, e) = (
        m["start"].as_u64().unwrap() as usize,
        m["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(&prompt[s..e], "calender");
    let exact =
        serde_json::to_value(router.analyze("whats on my calendar for thursday", 0)).unwrap();
    let keyword = exact["ranking"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "keyword" && m["term"] == "calendar")
        .map(|m| m["points"].as_f64().unwrap())
        .unwrap_or_else(|| panic!("{exact}"));
    assert_eq!(
        m["points"].as_f64().unwrap(),
        (keyword * 0.6 * 1000.0).round() / 1000.0,
        "reduced weight: {m}"
    );
    // Real words are not slips: "store" is not "storm".
    let a = router.analyze("store this: the wifi password is on the fridge", 0);
    assert!(
        a.ranking.iter().all(|s| &*s.server != "weather"),
        "{:?}",
        a.ranking
    );
}

#[test]
fn the_route_and_interactive_analyze_verbs() {
    // The embedded default (demo servers `text` and `math`), from a directory without a config.
    let dir = tempfile::tempdir().unwrap();
    let v = json_of(
        Command::new(switchboard_bin())
            .current_dir(dir.path())
            .args([
                "route",
                "please add 2 and 40",
                "--args",
                r#"{"a": 2, "b": 40}"#,
            ]),
    );
    assert_eq!(v["tool"], "math__add", "{v}");
    assert_eq!(v["result"]["content"][0]["text"], "42", "{v}");
    assert_eq!(v["routing"]["selected"][0], "math", "{v}");
    let none = Command::new(switchboard_bin())
        .current_dir(dir.path())
        .args(["route", "hello there general"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("422"),
        "{none:?}"
    );
    let bad = Command::new(switchboard_bin())
        .current_dir(dir.path())
        .args(["route", "add", "--args", "[1]"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--args must be a JSON object"));
    // --interactive: one table per line of stdin.
    use std::io::Write;
    let mut child = Command::new(switchboard_bin())
        .current_dir(dir.path())
        .args(["analyze", "--interactive"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"add 2 and 40\n\nreverse this text\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("RANK SERVER").count(), 2, "{text}");
    assert!(
        text.contains("math") && text.contains("text__reverse"),
        "{text}"
    );
}

#[test]
fn places_from_the_time_zone_database_hint_at_the_time_server() {
    let (config, catalog) = switchboard::router::eval::offline_fleet();
    let router = switchboard::router::Router::build(&config, Some(&catalog));
    let prompt = "noon in Tokyo is what in Lima?";
    let a = serde_json::to_value(router.analyze(prompt, 0)).unwrap();
    assert_eq!(a["ranking"][0]["server"], "time", "{a}");
    let places: Vec<&str> = a["ranking"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "gazetteer")
        .map(|m| {
            &prompt[m["start"].as_u64().unwrap() as usize..m["end"].as_u64().unwrap() as usize]
        })
        .collect();
    assert_eq!(places, ["Tokyo", "Lima"], "{a}");
    // A place alone ranks the server but does not select it.
    let a = router.analyze("how many people live in Lagos?", 0);
    assert!(
        a.selected.iter().all(|s| &**s != "time"),
        "{:?}",
        a.selected
    );
}

#[test]
fn inside_a_url_only_the_url_and_its_host_count() {
    let (config, catalog) = switchboard::router::eval::offline_fleet();
    let router = switchboard::router::Router::build(&config, Some(&catalog));
    // "index.html" and "/docs/..." in a URL's path are no files to read.
    let a = router.analyze("summarize https://example.com/docs/index.html for me", 0);
    assert_eq!(
        a.ranking.first().map(|s| &*s.server),
        Some("fetch"),
        "{:?}",
        a.ranking
    );
    assert!(
        a.ranking.iter().all(|s| &*s.server != "filesystem"),
        "{:?}",
        a.ranking
    );
    // A host names its server; the same file name outside a URL is a file.
    let a = router.analyze(
        "list the open pull requests on https://github.com/acme/site",
        0,
    );
    assert!(
        a.ranking.iter().take(2).any(|s| &*s.server == "github"),
        "{:?}",
        a.ranking
    );
    let a = router.analyze("open index.html from my desktop folder", 0);
    assert_eq!(
        a.ranking.first().map(|s| &*s.server),
        Some("filesystem"),
        "{:?}",
        a.ranking
    );
}

#[test]
fn a_pattern_written_for_capitals_wants_capitals() {
    // Patterns are case-insensitive; `(?-i)` in the built-in issue-key pattern makes it want an
    // upper-case key: "invoices-2026" is a folder name, "PAY-123" an issue.
    let (config, catalog) = switchboard::router::eval::offline_fleet();
    let router = switchboard::router::Router::build(&config, Some(&catalog));
    let pattern_on = |prompt: &str, server: &str| {
        let a = router.analyze(prompt, 0);
        let s = a.ranking.iter().find(|s| &*s.server == server);
        s.is_some_and(|s| {
            s.matches
                .iter()
                .any(|m| m.kind == switchboard::router::Kind::Pattern)
        })
    };
    assert!(!pattern_on(
        "create a folder called invoices-2026 under my documents",
        "tracker"
    ));
    assert!(pattern_on("what's the status of PAY-123", "tracker"));
    // The time set's "behind [A-Z]" wants a place: "behind schedule" is none.
    assert!(!pattern_on("we are behind schedule on the launch", "time"));
    assert!(pattern_on("is Lisbon behind London right now", "time"));
}

/// The matches of `server` in an analysis, as (kind, the prompt's text they cover, points).
fn evidence<'a>(a: &'a Value, prompt: &'a str, server: &str) -> Vec<(&'a str, &'a str, f64)> {
    let ranked = a["ranking"].as_array().unwrap();
    let Some(s) = ranked.iter().find(|s| s["server"] == server) else {
        panic!("{server} is not ranked: {a}");
    };
    s["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let (start, end) = (
                m["start"].as_u64().unwrap() as usize,
                m["end"].as_u64().unwrap() as usize,
            );
            (
                m["kind"].as_str().unwrap(),
                &prompt[start..end],
                m["points"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_shows_every_kind_of_evidence() {
    needs_peers!();
    // The real time server picks up the built-in time rules (a gazetteer, WordNet related words);
    // "weather" the built-in weather rules; "ledger" only what its entry says.
    let config = format!(
        "[servers.time]\ncommand = \"{time}\"\n\n{weather}{ledger}",
        time = time_server().display(),
        weather = demo("weather", "text", ""),
        ledger = demo(
            "ledger",
            "math",
            "keywords = [{ term = \"sum\", weight = 2 }]\n\
             negative_keywords = [\"summary\"]\n\
             examples = [\"reconcile the invoice totals for march\"]",
        ),
    );
    let gw = Gateway::start("switchboard.toml", &config);
    let analyze = |prompt: &'static str| {
        let url = format!("{}/analyze", gw.base);
        async move { post_json(&url, &json!({ "prompt": prompt })).await }
    };
    let has = |found: &[(&str, &str, f64)], kind: &str, text: &str| {
        found
            .iter()
            .find(|(k, t, _)| *k == kind && t.eq_ignore_ascii_case(text))
            .map(|&(_, _, p)| p)
            .unwrap_or_else(|| panic!("no {kind} match on {text:?}: {found:?}"))
    };

    let p = "is midday in Oslo before 3pm in the current timezone";
    let a = analyze(p).await;
    let found = evidence(&a, p, "time");
    assert_eq!(has(&found, "synonym", "midday"), 0.5, "half of noon's 1");
    assert_eq!(has(&found, "gazetteer", "Oslo"), 0.5);
    assert!(has(&found, "pattern", "3pm") > 0.0);
    assert!(has(&found, "keyword", "timezone") > 0.0);
    assert!(has(&found, "catalog", "current") > 0.0, "get_current_time");

    let p = "do I need an umbrela this afternoon";
    let a = analyze(p).await;
    let found = evidence(&a, p, "weather");
    let slip = has(&found, "fuzzy", "umbrela");
    let p = "do I need an umbrella this afternoon";
    let a = analyze(p).await;
    let exact = has(&evidence(&a, p, "weather"), "keyword", "umbrella");
    assert!(
        (slip - exact * 0.6).abs() < 1e-3,
        "0.6 of {exact}: {found:?}"
    );

    let p = "sum the invoice totals, not the summary";
    let a = analyze(p).await;
    let found = evidence(&a, p, "ledger");
    assert_eq!(has(&found, "keyword", "sum"), 2.0);
    assert!(has(&found, "example", "invoice") > 0.0);
    assert!(has(&found, "example", "totals") > 0.0);
    assert!(has(&found, "negative", "summary") < 0.0);
    let a = analyze("add 2 and 40").await;
    assert!(
        has(&evidence(&a, "add 2 and 40", "ledger"), "catalog", "add") > 0.0,
        "math__add"
    );
}

#[test]
fn the_persona_halves_meet_their_floors() {
    // router-config/eval-personas-{dev,test}.jsonl: 300 prompts by six personas, written before
    // any tuning; rules were tuned on the development half only. Measured with the built-in
    // rules: dev 0.913 / 0.960, test 0.849 / 0.935 (README, "Prompt routing").
    for (set, p1, r3) in [
        ("router-config/eval-personas-dev.jsonl", 0.87, 0.94),
        ("router-config/eval-personas-test.jsonl", 0.83, 0.92),
    ] {
        let r = eval_json(set);
        let cases = r["cases"].as_u64().unwrap() + r["skipped"].as_u64().unwrap();
        assert!(cases >= 148, "{set}: {cases} prompts");
        assert!(r["precision_at_1"].as_f64().unwrap() >= p1, "{set}: {r}");
        assert!(r["recall_at_3"].as_f64().unwrap() >= r3, "{set}: {r}");
    }
    let text = std::fs::read_to_string(manifest("router-config/eval-personas-test.jsonl")).unwrap();
    let personas: std::collections::BTreeSet<String> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["persona"].to_string())
        .collect();
    assert!(personas.len() >= 6, "{personas:?}");
}

#[test]
fn zero_rules_route_by_real_servers_catalogs() {
    needs_peers!();
    // No rules at all: only what filesystem, git, memory, fetch, time and everything publish.
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    let repo = dir.path().join("repo");
    let git = Command::new("git")
        .args(["init", "-q"])
        .arg(&repo)
        .status()
        .unwrap();
    assert!(git.success());
    let tools = tools_dir();
    let npm = |p: &str| tools.join("npm/node_modules/@modelcontextprotocol").join(p);
    let venv = |p: &str| tools.join("venv/bin").join(p);
    let config = format!(
        r#"[router]
default_rules = false

[servers.filesystem]
command = "node"
args = ["{fs}", "{files}"]

[servers.git]
command = "{git}"
args = ["--repository", "{repo}"]

[servers.memory]
command = "node"
args = ["{memory}"]
env = {{ MEMORY_FILE_PATH = "{memfile}" }}

[servers.fetch]
command = "{fetch}"

[servers.time]
command = "{time}"

[servers.everything]
command = "node"
args = ["{everything}", "stdio"]
"#,
        fs = npm("server-filesystem/dist/index.js").display(),
        files = files.display(),
        git = venv("mcp-server-git").display(),
        repo = repo.display(),
        memory = npm("server-memory/dist/index.js").display(),
        memfile = dir.path().join("memory.jsonl").display(),
        fetch = venv("mcp-server-fetch").display(),
        time = time_server().display(),
        everything = everything_js().display(),
    );
    let path = dir.path().join("zero.toml");
    std::fs::write(&path, config).unwrap();
    let r = json_of(
        Command::new(switchboard_bin())
            .args(["eval", "--json", "--config"])
            .arg(&path)
            .arg(manifest("router-config/eval-personas-test.jsonl")),
    );
    // The prompts for other kinds of server are skipped; 43 remain. Measured 0.721 / 0.791
    // (README, "Prompt routing"; 0.628 / 0.651 before servers' names and the words WordNet
    // relates to catalog words counted); the issue's target is 0.80.
    assert!(r["cases"].as_u64().unwrap() >= 40, "{r}");
    assert!(r["precision_at_1"].as_f64().unwrap() >= 0.69, "{r}");
    assert!(r["recall_at_3"].as_f64().unwrap() >= 0.76, "{r}");
    // The same servers as a new user configures them, nothing written: the built-in sets attach
    // by name and command (measured 0.930 / 0.977; README, "Prompt routing").
    let defaults = dir.path().join("defaults.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&defaults, text.replace("default_rules = false\n", "")).unwrap();
    let d = json_of(
        Command::new(switchboard_bin())
            .args(["eval", "--json", "--config"])
            .arg(&defaults)
            .arg(manifest("router-config/eval-personas-test.jsonl")),
    );
    assert_eq!(d["cases"], r["cases"], "{d}");
    assert!(d["precision_at_1"].as_f64().unwrap() >= 0.90, "{d}");
    assert!(d["recall_at_3"].as_f64().unwrap() >= 0.95, "{d}");
    // With meaning (`eval --model` over the same configuration): its words-alone row is the
    // same measurement as `eval`'s, and the fused order the gateway uses where no rule is
    // written (saturating) picks and finds more of the right servers (measured 0.767 / 0.907
    // against 0.721 / 0.791).
    let model = tools.join("models/all-MiniLM-L6-v2");
    if !model.join("model.safetensors").exists() {
        eprintln!("skipped the part with meaning: the model is not installed (bash .ci/install)");
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let rows = json_of(
        Command::new(switchboard_bin())
            .args(["eval", "--json", "--model"])
            .arg(&model)
            .arg("--config")
            .arg(&path)
            .arg(manifest("router-config/eval-personas-test.jsonl"))
            .env("XDG_STATE_HOME", state.path()),
    );
    let row = |m: &str| {
        let rows = rows.as_array().unwrap();
        rows.iter().find(|r| r["method"] == m).cloned().unwrap()
    };
    let (words, fused) = (row("lexical"), row("saturating"));
    assert_eq!(fused["used"], true, "zero rules fuse saturating: {rows}");
    let same = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 0.001;
    assert!(
        same(&words["precision_at_1"], &r["precision_at_1"]),
        "{words} vs {r}"
    );
    assert!(
        same(&words["recall_at_k"], &r["recall_at_3"]),
        "{words} vs {r}"
    );
    assert!(
        fused["recall_at_k"].as_f64() > words["recall_at_k"].as_f64(),
        "{fused} vs {words}"
    );
    assert!(
        fused["precision_at_1"].as_f64() > words["precision_at_1"].as_f64(),
        "{fused} vs {words}"
    );
}
