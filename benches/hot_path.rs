//! Micro-benchmarks of the per-request hot path. Run with: `cargo bench --bench hot_path`.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::value::RawValue;
use std::hint::black_box;
use std::sync::Arc;
use switchboard::catalog::{NameIndex, Source};
use switchboard::jsonrpc;
use switchboard::upstream::Item;

fn envelope(c: &mut Criterion) {
    let call = br#"{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"everything__echo","arguments":{"message":"hello world, this is a typical short tool call"}}}"#;
    c.bench_function("parse tools/call envelope", |b| {
        b.iter(|| {
            let m = jsonrpc::parse(black_box(call)).unwrap();
            black_box(m.kind().is_ok())
        })
    });
    let result = r#"{"content":[{"type":"text","text":"Echo: hello world"}],"isError":false}"#;
    c.bench_function("splice response", |b| {
        b.iter(|| black_box(jsonrpc::response_result(black_box("42"), black_box(result))))
    });
}

fn lookup(c: &mut Criterion) {
    let servers: Vec<Arc<str>> = (0..50).map(|i| Arc::from(format!("server{i}"))).collect();
    let tools: Vec<Vec<Item>> = (0..50)
        .map(|_| {
            (0..100)
                .map(|t| {
                    let raw = format!(r#"{{"name":"tool_{t}","description":"Tool number {t}","inputSchema":{{"type":"object"}}}}"#);
                    Item { key: Arc::from(format!("tool_{t}")), raw: Arc::from(RawValue::from_string(raw).unwrap()) }
                })
                .collect()
        })
        .collect();
    let sources: Vec<Source<'_>> = servers
        .iter()
        .zip(&tools)
        .map(|(s, t)| Source {
            server: s,
            prefix: true,
            items: t,
        })
        .collect();
    let (catalog, _) = NameIndex::build(&sources, "__", 64);
    c.bench_function("lookup exposed name (5,000 tools)", |b| {
        b.iter(|| {
            black_box(
                catalog
                    .get(black_box("server37__tool_42"))
                    .map(|t| t.server),
            )
        })
    });
    c.bench_function("build catalog (50 x 100 tools)", |b| {
        b.iter(|| black_box(NameIndex::build(&sources, "__", 64).0.items().len()))
    });
}

fn id_remapping(c: &mut Criterion) {
    use switchboard::upstream::Peer;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let peer = Peer::new();
    c.bench_function(
        "id remap: register, answer, match (one upstream round)",
        |b| {
            b.iter(|| {
                let (id, rx) = peer.register().unwrap();
                let answer = bytes::Bytes::from(format!(
                    r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[]}}}}"#
                ));
                peer.deliver(answer).unwrap();
                let reply = rt.block_on(rx).unwrap().unwrap();
                black_box(reply.payload().len())
            })
        },
    );
    c.bench_function("params view: name and progress token", |b| {
        let p = r#"{"name":"everything__echo","arguments":{"message":"hello"},"_meta":{"progressToken":7}}"#;
        b.iter(|| black_box(jsonrpc::view(black_box(p)).name_span))
    });
}

criterion_group!(benches, envelope, lookup, id_remapping);
criterion_main!(benches);
