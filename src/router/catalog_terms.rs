//! Keywords derived from a server's live tool catalog: tool names split into words, and the
//! salient words of descriptions. With no rules configured, routing still works.

/// Words of tool names and descriptions too common in catalogs to say anything about a server
/// (schema and tool jargon, and a few English words NLTK's list lacks); English function words
/// come from NLTK's stop-word list (the `stop-words` crate).
const STOP: &[&str] = &[
    "may",
    "get",
    "set",
    "list",
    "tool",
    "tools",
    "use",
    "used",
    "using",
    "returns",
    "return",
    "given",
    "value",
    "values",
    "data",
    "input",
    "output",
    "optional",
    "required",
    "name",
    "names",
    "type",
    "types",
    "string",
    "number",
    "object",
    "array",
    "true",
    "false",
    "null",
    "new",
    "one",
    "two",
    "also",
    "via",
    "per",
    "must",
    "make",
    "makes",
    "made",
    "specified",
    "specific",
    "provided",
    "information",
    "details",
    "result",
    "results",
    "based",
    "mcp",
    "server",
    "request",
    "response",
    "default",
    "example",
    "call",
    "run",
    "test",
];

fn is_stop(w: &str) -> bool {
    w.len() < 3
        || STOP.contains(&w)
        || super::examples::is_stop_word(w)
        || w.chars().all(|c| c.is_ascii_digit())
}

/// Split an identifier on `_ - .` and case changes: `getCurrentTime` -> get, current, time.
pub fn split_name(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.' | ' ' | '/' | ':') {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The routing words of a server's name: its words but stop words (`mcp-server-git` -> git).
pub fn name_words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = split_name(name)
        .into_iter()
        .filter(|w| !is_stop(w))
        .collect();
    out.dedup();
    out
}

/// The routing words of one tool: its name's words and up to 12 salient description words
/// (four letters or more, or an acronym such as `URL`), and how many of them (the first ones)
/// come from its name.
pub fn tool_words(name: &str, description: Option<&str>) -> (Vec<String>, usize) {
    fn push(out: &mut Vec<String>, w: String) {
        if !is_stop(&w) && !out.contains(&w) {
            out.push(w);
        }
    }
    let mut out: Vec<String> = Vec::new();
    for w in split_name(name) {
        push(&mut out, w);
    }
    let from_name = out.len();
    if let Some(d) = description {
        let mut taken = 0;
        for w in d.split(|c: char| !c.is_ascii_alphabetic()) {
            let acronym = w.len() >= 3 && w.bytes().all(|b| b.is_ascii_uppercase());
            let w = w.to_ascii_lowercase();
            if (w.len() >= 4 || acronym) && !is_stop(&w) && taken < 12 {
                taken += 1;
                push(&mut out, w);
            }
        }
    }
    (out, from_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names_and_picks_salient_words() {
        assert_eq!(split_name("getCurrentTime"), ["get", "current", "time"]);
        assert_eq!(
            split_name("git_commit-all.v2"),
            ["git", "commit", "all", "v2"]
        );
        let (w, from_name) = tool_words(
            "get_forecast",
            Some("Get the weather forecast for a location (latitude, longitude) as JSON."),
        );
        assert_eq!(from_name, 1, "{w:?}");
        assert!(
            w.contains(&"forecast".to_string())
                && w.contains(&"weather".to_string())
                && w.contains(&"latitude".to_string())
                && w.contains(&"json".to_string())
        );
        assert!(!w.contains(&"get".to_string()) && !w.contains(&"the".to_string()));
        assert_eq!(name_words("mcp-server-git"), ["git"]);
        assert_eq!(name_words("memory"), ["memory"]);
    }
}
