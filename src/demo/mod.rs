//! A small MCP server built into the binary (`switchboard demo-server`), so that the embedded
//! default configuration shows a real aggregate on a machine with nothing else installed.
//!
//! It speaks stdio, answers the `initialize` generation, and offers one "kit" of tools per process.

mod kits;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

pub use kits::Kit;

/// Serve one kit over stdin/stdout until stdin closes.
pub async fn run(kit: Kit) -> std::io::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let Some(answer) = answer(kit, &line) else {
            continue;
        };
        let mut text = answer.to_string();
        text.push('\n');
        out.write_all(text.as_bytes()).await?;
        out.flush().await?;
    }
    Ok(())
}

/// The answer to one line, if it needs one.
fn answer(kit: Kit, line: &str) -> Option<Value> {
    let msg: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return Some(error(Value::Null, -32700, &format!("parse error: {e}"))),
    };
    let id = msg.get("id").cloned()?; // notifications and responses need no answer
    let Some(method) = msg.get("method").and_then(Value::as_str) else {
        return None; // a response to something we never asked
    };
    let params = msg.get("params").cloned().unwrap_or(Value::Null);
    let result = match method {
        "initialize" => {
            let asked = params.get("protocolVersion").and_then(Value::as_str);
            let version = crate::protocol::negotiate(asked);
            Ok(json!({
                "protocolVersion": version,
                "capabilities": { "tools": { "listChanged": false } },
                "serverInfo": { "name": format!("switchboard-demo-{}", kit.name()), "version": env!("CARGO_PKG_VERSION") },
                "instructions": kit.instructions(),
            }))
        }
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({ "tools": kit.tools() })),
        "tools/call" => {
            let name = params.get("name").and_then(Value::as_str).unwrap_or("");
            let args = params.get("arguments").cloned().unwrap_or(json!({}));
            match kit.call(name, &args) {
                Some(Ok(text)) => Ok(json!({ "content": [{ "type": "text", "text": text }] })),
                Some(Err(problem)) => {
                    Ok(json!({ "content": [{ "type": "text", "text": problem }], "isError": true }))
                }
                None => Err((-32602, format!("unknown tool: {name:?}"))),
            }
        }
        other => Err((-32601, format!("method not found: {other:?}"))),
    };
    Some(match result {
        Ok(r) => json!({ "jsonrpc": "2.0", "id": id, "result": r }),
        Err((code, message)) => error(id, code, &message),
    })
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_lifecycle_and_tools() {
        let init = answer(Kit::Text, r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}"#).unwrap();
        assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
        assert!(answer(
            Kit::Text,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
        )
        .is_none());
        let list = answer(
            Kit::Math,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        )
        .unwrap();
        assert!(list["result"]["tools"].as_array().unwrap().len() >= 3);
        let call = answer(Kit::Math, r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"a":2,"b":40}}}"#).unwrap();
        assert_eq!(call["result"]["content"][0]["text"], "42");
        let bad = answer(Kit::Math, r#"{"jsonrpc":"2.0","id":4,"method":"nope"}"#).unwrap();
        assert_eq!(bad["error"]["code"], -32601);
    }
}
