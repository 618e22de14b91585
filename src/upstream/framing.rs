//! stdio framing: one JSON-RPC message per line, each at most `max` bytes. A longer line is not
//! read into memory: its first bytes are kept (to find the request it answers) and the rest is
//! skipped up to its end.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// How much of an oversized line is kept.
pub const KEPT_OF_OVERSIZE: usize = 4096;

/// One line read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line within the limit, without its line end and surrounding whitespace.
    Message(Vec<u8>),
    /// A line over the limit: its first [`KEPT_OF_OVERSIZE`] bytes (all of it, when shorter).
    Oversize(Vec<u8>),
}

/// Read the next non-empty line; `None` at the end of the stream.
pub async fn next_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> std::io::Result<Option<Line>> {
    loop {
        let mut line = Vec::new();
        let mut over = false;
        loop {
            let buf = reader.fill_buf().await?;
            if buf.is_empty() {
                if line.is_empty() && !over {
                    return Ok(None);
                }
                break; // the last line, without a line end
            }
            let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (&buf[..i], Some(i + 1)),
                None => (buf, None),
            };
            // Room for a whole message and one byte more (which says it is too long), or for
            // the part of an oversized line that is kept, whichever is larger.
            let room = (max + 1).max(KEPT_OF_OVERSIZE).saturating_sub(line.len());
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
            over |= line.len() > max;
            let used = done.unwrap_or(buf.len());
            reader.consume(used);
            if done.is_some() {
                break;
            }
        }
        if over {
            line.truncate(KEPT_OF_OVERSIZE);
            return Ok(Some(Line::Oversize(line)));
        }
        let text = line.trim_ascii();
        if !text.is_empty() {
            return Ok(Some(Line::Message(text.to_vec())));
        }
    }
}

/// The numeric `"id"` near the start of a message, if it is there (our request ids are numbers).
pub fn leading_id(prefix: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(prefix);
    let at = text.find("\"id\"")?;
    let rest = text[at + 4..].trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut reader = tokio::io::BufReader::with_capacity(7, input);
        let mut out = Vec::new();
        while let Some(l) = next_line(&mut reader, max).await.unwrap() {
            out.push(l);
        }
        out
    }

    #[tokio::test]
    async fn splits_lines_skips_blank_ones_and_cuts_oversized_ones() {
        let got = lines(
            b"{\"a\":1}\n\n  \r\n{\"id\":7,\"b\":\"xxxxxxxxxxxxxxxxxxxx\"}\n{\"c\":3}",
            16,
        )
        .await;
        assert_eq!(got[0], Line::Message(b"{\"a\":1}".to_vec()));
        match &got[1] {
            Line::Oversize(p) => assert_eq!(leading_id(p), Some(7)),
            other => panic!("{other:?}"),
        }
        assert_eq!(got[2], Line::Message(b"{\"c\":3}".to_vec()));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn finds_the_leading_id() {
        assert_eq!(
            leading_id(br#"{"jsonrpc":"2.0","id": 42,"result""#),
            Some(42)
        );
        assert_eq!(leading_id(br#"{"jsonrpc":"2.0","result":{"#), None);
        assert_eq!(leading_id(br#"{"id":"x"}"#), None);
    }
}
