//! The demo server's tool kits.

use serde_json::{json, Value};

/// Which tools a demo-server process offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kit {
    /// echo, reverse, word_count
    Text,
    /// add, multiply, stats
    Math,
}

impl Kit {
    /// The kit's name.
    pub fn name(self) -> &'static str {
        match self {
            Kit::Text => "text",
            Kit::Math => "math",
        }
    }

    /// What the server tells clients about itself.
    pub fn instructions(self) -> &'static str {
        match self {
            Kit::Text => "Small text utilities: echo, reverse, word_count.",
            Kit::Math => "Small arithmetic: add, multiply, stats over a list of numbers.",
        }
    }

    /// The tool list.
    pub fn tools(self) -> Value {
        let text_arg = json!({ "type": "object", "properties": { "text": { "type": "string" } }, "required": ["text"] });
        let pair = json!({ "type": "object", "properties": { "a": { "type": "number" }, "b": { "type": "number" } }, "required": ["a", "b"] });
        let read_only = json!({ "readOnlyHint": true, "idempotentHint": true });
        match self {
            Kit::Text => json!([
                { "name": "echo", "description": "Return the text unchanged.", "inputSchema": text_arg, "annotations": read_only },
                { "name": "reverse", "description": "Reverse the characters of the text.", "inputSchema": text_arg, "annotations": read_only },
                { "name": "word_count", "description": "Count the words in the text.", "inputSchema": text_arg, "annotations": read_only },
            ]),
            Kit::Math => json!([
                { "name": "add", "description": "Add two numbers: their sum.", "inputSchema": pair, "annotations": read_only },
                { "name": "multiply", "description": "Multiply two numbers.", "inputSchema": pair, "annotations": read_only },
                { "name": "stats", "description": "Count, sum, mean, min and max of a list of numbers.",
                  "inputSchema": { "type": "object", "properties": { "numbers": { "type": "array", "items": { "type": "number" } } }, "required": ["numbers"] },
                  "annotations": read_only },
            ]),
        }
    }

    /// Run a tool: `None` if it does not exist, `Some(Err)` for a tool-level failure.
    pub fn call(self, name: &str, args: &Value) -> Option<Result<String, String>> {
        let text = || {
            args.get("text")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| "argument \"text\" (a string) is required".to_string())
        };
        let num = |k: &str| {
            args.get(k)
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("argument {k:?} (a number) is required"))
        };
        let result = match (self, name) {
            (Kit::Text, "echo") => text(),
            (Kit::Text, "reverse") => text().map(|t| t.chars().rev().collect()),
            (Kit::Text, "word_count") => text().map(|t| t.split_whitespace().count().to_string()),
            (Kit::Math, "add") => num("a").and_then(|a| Ok(fmt(a + num("b")?))),
            (Kit::Math, "multiply") => num("a").and_then(|a| Ok(fmt(a * num("b")?))),
            (Kit::Math, "stats") => stats(args),
            _ => return None,
        };
        Some(result)
    }
}

fn fmt(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

fn stats(args: &Value) -> Result<String, String> {
    let nums: Vec<f64> = args
        .get("numbers")
        .and_then(Value::as_array)
        .ok_or("argument \"numbers\" (an array of numbers) is required")?
        .iter()
        .map(|v| {
            v.as_f64()
                .ok_or("every element of \"numbers\" must be a number")
        })
        .collect::<Result<_, _>>()?;
    if nums.is_empty() {
        return Err("\"numbers\" is empty".into());
    }
    let sum: f64 = nums.iter().sum();
    let min = nums.iter().copied().fold(f64::INFINITY, f64::min);
    let max = nums.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Ok(json!({ "count": nums.len(), "sum": sum, "mean": sum / nums.len() as f64, "min": min, "max": max }).to_string())
}
