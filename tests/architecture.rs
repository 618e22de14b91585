//! The shape of `src/`, checked: imports point one way along the data flow, files stay small,
//! functions stay short. Reads the sources as text; needs nothing installed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules from the top of the data flow down: each may import only modules after it.
/// The last four are leaves: they import nothing of the crate.
const ORDER: &[&str] = &[
    "cli",
    "demo",
    "fixture",
    "server",
    "auth",
    "admin",
    "downstream",
    "session",
    "gateway",
    "router",
    "catalog",
    "pins",
    "policy",
    "layers",
    "upstream",
    "call",
    "cluster",
    "config",
    "protocol",
    "jsonrpc",
    "observe",
];
const LEAVES: &[&str] = &["config", "protocol", "jsonrpc", "observe"];

/// Longest source file, in lines.
const MAX_FILE_LINES: usize = 450;
/// Longest function, in lines, unless the line before it says why (`// Long: ...`).
const MAX_FN_LINES: usize = 80;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for `lib.rs` and `main.rs`).
fn top_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The code of a file without comments and without its test modules (tests may reach anywhere).
fn production_code(text: &str) -> String {
    let code = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    };
    code.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate's top-level modules a piece of code names (`crate::x::...`, `use crate::{x, y}`).
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

fn is_test_file(path: &Path) -> bool {
    let rel = path.strip_prefix(src()).unwrap();
    rel.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("tests.rs") || n == "testing.rs")
}

#[test]
fn imports_point_down_the_data_flow() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tops = BTreeSet::new();
    for f in &files {
        let Some(top) = top_of(f) else { continue };
        tops.insert(top.clone());
        if is_test_file(f) {
            continue;
        }
        let code = production_code(&std::fs::read_to_string(f).unwrap());
        for m in imports(&code) {
            if m != top && ORDER.contains(&m.as_str()) {
                edges
                    .entry(top.clone())
                    .or_default()
                    .insert(format!("{m} ({})", f.display()));
            }
        }
    }
    for t in &tops {
        assert!(
            ORDER.contains(&t.as_str()),
            "module {t} is not placed in ORDER: say where it sits in the data flow"
        );
    }
    let rank = |m: &str| ORDER.iter().position(|o| *o == m).unwrap();
    let mut upward = Vec::new();
    for (from, tos) in &edges {
        for to in tos {
            let name = to.split(' ').next().unwrap();
            if LEAVES.contains(&from.as_str()) {
                upward.push(format!("leaf {from} imports {to}"));
            } else if rank(name) <= rank(from) {
                upward.push(format!("{from} imports {to}, which is above it"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that point up:\n{}",
        upward.join("\n")
    );
}

#[test]
fn files_stay_small() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let big: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > MAX_FILE_LINES).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(
        big.is_empty(),
        "files over {MAX_FILE_LINES} lines:\n{}",
        big.join("\n")
    );
}

/// Where each function starts and how long it is: from its `fn` line to its closing brace.
fn functions(text: &str) -> Vec<(usize, String, usize, bool)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let is_fn = [
            "fn ",
            "pub fn ",
            "async fn ",
            "pub async fn ",
            "const fn ",
            "pub const fn ",
        ]
        .iter()
        .any(|p| t.starts_with(p))
            || (t.starts_with("pub(") && t.contains(") fn ") || t.contains(") async fn "));
        if !is_fn || t.ends_with(';') {
            continue;
        }
        let name: String = t[t.find("fn ").unwrap() + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let mut depth = 0i64;
        let mut opened = false;
        let mut end = i;
        let mut lexer = Lexer::default();
        'scan: for (j, l) in lines.iter().enumerate().skip(i) {
            for c in lexer.code(l) {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    ';' if !opened && depth == 0 => break 'scan, // a declaration
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                end = j;
                break;
            }
        }
        if !opened {
            continue;
        }
        // An exemption is a `// Long: why` comment right above the function (or its attributes).
        let mut k = i;
        let mut excused = false;
        while k > 0 {
            k -= 1;
            let above = lines[k].trim_start();
            if above.starts_with("// Long:") {
                excused = true;
                break;
            }
            if !(above.starts_with("///") || above.starts_with("#[") || above.starts_with("//")) {
                break;
            }
        }
        out.push((i + 1, name, end - i + 1, excused));
    }
    out
}

/// Just enough of Rust's lexing to count braces: the characters of a line that are code, not
/// inside a string (also raw and multi-line ones), a char literal or a `//` comment.
#[derive(Default)]
struct Lexer {
    /// Inside a string: `Some(n)` for a raw string closed by `"` and n `#`s, `None` for a plain
    /// one (`in_str`).
    raw: Option<usize>,
    in_str: bool,
}

impl Lexer {
    fn code(&mut self, line: &str) -> Vec<char> {
        let chars: Vec<char> = line.chars().collect();
        let mut out = Vec::new();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            if let Some(hashes) = self.raw {
                let closes = c == '"' && (1..=hashes).all(|h| chars.get(k + h) == Some(&'#'));
                if closes {
                    self.raw = None;
                    k += hashes;
                }
            } else if self.in_str {
                match c {
                    '\\' => k += 1,
                    '"' => self.in_str = false,
                    _ => {}
                }
            } else if c == '/' && chars.get(k + 1) == Some(&'/') {
                break;
            } else if c == 'r'
                && matches!(chars.get(k + 1), Some('"') | Some('#'))
                && !chars
                    .get(k.wrapping_sub(1))
                    .is_some_and(|p| p.is_alphanumeric() || *p == '_')
            {
                let hashes = chars[k + 1..].iter().take_while(|h| **h == '#').count();
                if chars.get(k + 1 + hashes) == Some(&'"') {
                    self.raw = Some(hashes);
                    k += 1 + hashes;
                } else {
                    out.push(c);
                }
            } else if c == '"' {
                self.in_str = true;
            } else if c == '\'' && chars.get(k + 2) == Some(&'\'') {
                k += 2; // 'x'
            } else if c == '\'' && chars.get(k + 1) == Some(&'\\') {
                let close = chars[k + 2..].iter().position(|d| *d == '\'');
                k += 2 + close.unwrap_or(0); // '\n', '\u{..}'
            } else {
                out.push(c);
            }
            k += 1;
        }
        out
    }
}

#[test]
fn functions_stay_short() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut long = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (line, name, len, excused) in functions(&text) {
            if len > MAX_FN_LINES && !excused {
                long.push(format!("{}:{line} fn {name} ({len} lines)", f.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them, or say why with `// Long: ...`):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_checkers_see_what_they_check() {
    // The helpers above must find what they look for, or the checks would pass vacuously.
    let code = "use crate::{gateway, jsonrpc::x};\nfn f() { crate::call::Failure::closed(); }";
    let found = imports(code);
    assert!(found.contains("gateway") && found.contains("jsonrpc") && found.contains("call"));
    let f = functions("fn a() {\n    x;\n}\n// Long: a table\nfn b() {\n}\n");
    assert_eq!(f[0], (1, "a".to_string(), 3, false));
    assert_eq!(f[1], (5, "b".to_string(), 2, true));
    // Braces in strings, raw strings, char literals and comments are not code.
    let f = functions(
        "fn c() {\n    s.contains(\"${\");\n    let r = r#\"}\n\"#;\n    ('{', '\\u{7d}'); // }\n}\nfn d() {}\n",
    );
    assert_eq!(f[0], (1, "c".to_string(), 6, false), "{f:?}");
    assert_eq!(f[1].1, "d");
    let gateway = src().join("gateway/dispatch.rs");
    assert_eq!(top_of(&gateway).as_deref(), Some("gateway"));
    let commented =
        production_code("use crate::a; // crate::b\n#[cfg(test)]\nmod tests {\nuse crate::c;\n}");
    assert_eq!(imports(&commented), BTreeSet::from(["a".to_string()]));
}
