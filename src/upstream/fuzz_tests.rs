//! Property tests of what the upstream side reads (`fuzz_*`): stdio line framing, and the SSE
//! stream of an HTTP upstream, cut into chunks at arbitrary points.

use super::framing::{self, Line};
use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures::StreamExt;
use proptest::prelude::*;

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

/// Every line of `input`, read through a buffer of `capacity` bytes with limit `max`.
fn read_lines(input: &[u8], capacity: usize, max: usize) -> Vec<Line> {
    run(async {
        let mut r = tokio::io::BufReader::with_capacity(capacity, input);
        let mut out = Vec::new();
        while let Some(l) = framing::next_line(&mut r, max).await.unwrap() {
            out.push(l);
        }
        out
    })
}

proptest! {
    #[test]
    fn fuzz_framing_reads_each_line_once_whatever_the_buffer(
        lines in prop::collection::vec("[ -~]{0,40}", 0..12),
        capacity in 1usize..64,
        max in 1usize..48,
    ) {
        let input: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect();
        let got = read_lines(&input, capacity, max);
        let want: Vec<Line> = lines
            .iter()
            .filter(|l| !l.trim().is_empty() || l.len() > max)
            .map(|l| {
                if l.len() > max {
                    Line::Oversize(l.as_bytes()[..framing::KEPT_OF_OVERSIZE.min(l.len())].to_vec())
                } else {
                    Line::Message(l.trim().as_bytes().to_vec())
                }
            })
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn fuzz_framing_survives_any_bytes(input in prop::collection::vec(any::<u8>(), 0..2048), capacity in 1usize..128, max in 1usize..256) {
        for line in read_lines(&input, capacity, max) {
            match line {
                Line::Message(m) => prop_assert!(!m.is_empty() && m.len() <= max && !m.contains(&b'\n')),
                Line::Oversize(p) => prop_assert!(p.len() <= framing::KEPT_OF_OVERSIZE),
            }
        }
    }

    #[test]
    fn fuzz_sse_events_survive_any_chunking(
        datas in prop::collection::vec("[ -~]{1,30}", 1..8),
        cuts in prop::collection::vec(1usize..16, 0..32),
    ) {
        let text: String = datas.iter().map(|d| format!("event: message\ndata: {d}\n\n")).collect();
        let bytes = text.into_bytes();
        let mut chunks = Vec::new();
        let mut at = 0;
        for c in cuts {
            if at >= bytes.len() {
                break;
            }
            let end = (at + c).min(bytes.len());
            chunks.push(Ok::<_, std::io::Error>(Bytes::copy_from_slice(&bytes[at..end])));
            at = end;
        }
        if at < bytes.len() {
            chunks.push(Ok(Bytes::copy_from_slice(&bytes[at..])));
        }
        let got: Vec<String> = run(async {
            futures::stream::iter(chunks)
                .eventsource()
                .filter_map(|e| async move { e.ok().map(|e| e.data) })
                .collect()
                .await
        });
        let want = datas; // the one space after "data:" is the field's separator, not its value
        prop_assert_eq!(got, want);
    }

    #[test]
    fn fuzz_leading_ids_are_found_or_not_invented(id in any::<u64>(), filler in "[a-z\":,{} ]{0,40}") {
        let msg = format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},{filler}");
        prop_assert_eq!(framing::leading_id(msg.as_bytes()), Some(id));
        prop_assert!(framing::leading_id(filler.as_bytes()).is_none() || filler.contains("\"id\""));
    }
}
