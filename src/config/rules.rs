//! Routing rules as configured: keywords, regex patterns and negative keywords per server, from a
//! server's own entry, from rule files (`router-config/*.toml`), or from the seed-004 router JSON.

use super::lexicons::{named, places, related, GAZETTEERS, THESAURI};
use super::ConfigError;
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// A keyword or pattern with an optional weight, as written: `"forecast"` or
/// `{ term = "forecast", weight = 2.0 }` (`regex` for patterns).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum WeightedSpec {
    /// Weight 1.
    Plain(String),
    /// Explicit weight.
    Weighted {
        /// The keyword or regex.
        #[serde(alias = "regex", alias = "pattern", alias = "keyword")]
        term: String,
        /// Its weight.
        weight: f64,
    },
}

/// One rule term, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Weighted {
    /// Keyword (lowercased) or regex source.
    pub text: String,
    /// Points it gives (taken away, for a negative keyword).
    pub weight: f64,
}

/// The rules of one server.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// Keywords.
    pub keywords: Vec<Weighted>,
    /// Regex patterns (case-insensitive).
    pub patterns: Vec<Weighted>,
    /// Keywords that count against the server.
    pub negative: Vec<Weighted>,
    /// Place names from a real data set that hint at the server ([`GAZETTEERS`]).
    pub gazetteer: Vec<Weighted>,
    /// Prompts an admin wrote as examples of what the server is for; the router derives
    /// discriminative words from them (`router::examples`).
    pub examples: Vec<String>,
    /// Related words of the keywords, from a lexical database ([`THESAURI`]).
    pub synonyms: Vec<Synonym>,
}

/// A word related to a keyword, counted below it.
#[derive(Debug, Clone, PartialEq)]
pub struct Synonym {
    /// The related word (lowercase).
    pub text: String,
    /// Points it gives: [`SYNONYM_FACTOR`] of the keyword's.
    pub weight: f64,
    /// The keyword it stands for.
    pub of: String,
}

/// Rules as written in a server entry or a rule file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Keywords.
    #[serde(default)]
    pub keywords: Vec<WeightedSpec>,
    /// Regex patterns.
    #[serde(default)]
    pub patterns: Vec<WeightedSpec>,
    /// Negative keywords.
    #[serde(default)]
    pub negative_keywords: Vec<WeightedSpec>,
    /// A gazetteer by name ([`GAZETTEERS`]).
    #[serde(default)]
    pub gazetteer: Option<String>,
    /// Example prompts (`examples = ["...", ...]`).
    #[serde(default)]
    pub examples: Vec<String>,
    /// A thesaurus by name ([`THESAURI`]) whose related words of the keywords count too.
    #[serde(default)]
    pub synonyms: Option<String>,
}

fn weighted(
    list: &[WeightedSpec],
    file: &str,
    path: &str,
    lower: bool,
) -> Result<Vec<Weighted>, ConfigError> {
    list.iter()
        .enumerate()
        .map(|(i, w)| {
            let (text, weight) = match w {
                WeightedSpec::Plain(t) => (t.clone(), 1.0),
                WeightedSpec::Weighted { term, weight } => (term.clone(), *weight),
            };
            if text.trim().is_empty() || !weight.is_finite() || weight <= 0.0 {
                return Err(ConfigError::invalid(
                    file,
                    &format!("{path}[{i}]"),
                    "needs a non-empty term and a positive weight",
                ));
            }
            let text = if lower {
                text.trim().to_lowercase()
            } else {
                text
            };
            Ok(Weighted { text, weight })
        })
        .collect()
}

impl RuleSpec {
    /// Parse; every pattern must compile (the error names the server and the pattern).
    pub fn build(&self, file: &str, path: &str) -> Result<Rules, ConfigError> {
        let patterns = weighted(&self.patterns, file, &format!("{path}.patterns"), false)?;
        for (i, p) in patterns.iter().enumerate() {
            if let Err(e) = regex::RegexBuilder::new(&p.text)
                .case_insensitive(true)
                .build()
            {
                return Err(ConfigError::invalid(
                    file,
                    &format!("{path}.patterns[{i}]"),
                    format!(
                        "invalid regex {:?}: {}",
                        p.text,
                        e.to_string().lines().last().unwrap_or("")
                    ),
                ));
            }
        }
        let gazetteer = match &self.gazetteer {
            None => Vec::new(),
            Some(name) => places(named(
                GAZETTEERS,
                name,
                "gazetteer",
                file,
                &format!("{path}.gazetteer"),
            )?),
        };
        let keywords = weighted(&self.keywords, file, &format!("{path}.keywords"), true)?;
        let synonyms = match &self.synonyms {
            None => Vec::new(),
            Some(name) => {
                let table = named(
                    THESAURI,
                    name,
                    "thesaurus",
                    file,
                    &format!("{path}.synonyms"),
                )?;
                related(table, &keywords)
            }
        };
        for (i, e) in self.examples.iter().enumerate() {
            let problem = if e.trim().is_empty() {
                "an example prompt cannot be empty"
            } else if self.examples[..i].iter().any(|o| same_example(o, e)) {
                // Twice would count its words as two examples' (`router::examples::share`).
                "this example prompt is already in the list"
            } else {
                continue;
            };
            return Err(ConfigError::invalid(
                file,
                &format!("{path}.examples[{i}]"),
                problem,
            ));
        }
        Ok(Rules {
            gazetteer,
            synonyms,
            examples: self.examples.clone(),
            keywords,
            patterns,
            negative: weighted(
                &self.negative_keywords,
                file,
                &format!("{path}.negative_keywords"),
                true,
            )?,
        })
    }
}

impl Rules {
    /// Add another set of rules to these.
    pub fn extend(&mut self, other: Rules) {
        self.keywords.extend(other.keywords);
        self.patterns.extend(other.patterns);
        self.negative.extend(other.negative);
        self.gazetteer.extend(other.gazetteer);
        // A user's example that repeats a built-in set's is one example, not two.
        for e in other.examples {
            if !self.examples.iter().any(|o| same_example(o, &e)) {
                self.examples.push(e);
            }
        }
        self.synonyms.extend(other.synonyms);
    }

    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.keywords.is_empty()
            && self.patterns.is_empty()
            && self.negative.is_empty()
            && self.gazetteer.is_empty()
            && self.examples.is_empty()
            && self.synonyms.is_empty()
    }
}

/// Whether two example prompts are the same one (case and surrounding space aside).
fn same_example(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The seed-004 router JSON's `default_limits`, as written (seconds).
#[derive(Debug, Clone, Default, Deserialize)]
struct LimitsSpec {
    response_timeout: Option<f64>,
    max_retries: Option<u32>,
    startup_wait: Option<f64>,
}

/// The seed-004 router JSON's `default_limits`.
#[derive(Debug, Clone, Default)]
pub struct DefaultLimits {
    /// How long to wait for a response.
    pub response_timeout: Option<Duration>,
    /// Retries of safe requests (the retry layer).
    pub max_retries: Option<u32>,
    /// How long a server may take to start.
    pub startup_wait: Option<Duration>,
}

impl LimitsSpec {
    /// Seconds become durations; zero or less means "not set" (as the seed's launcher read it);
    /// a value no duration can hold is an error naming the field.
    fn build(self, file: &str) -> Result<DefaultLimits, ConfigError> {
        let seconds = |v: Option<f64>, field: &str| -> Result<Option<Duration>, ConfigError> {
            match v.filter(|t| *t > 0.0) {
                None => Ok(None),
                Some(t) => Duration::try_from_secs_f64(t).map(Some).map_err(|_| {
                    ConfigError::invalid(
                        file,
                        &format!("default_limits.{field}"),
                        format!("{t} seconds is not a usable duration"),
                    )
                }),
            }
        };
        Ok(DefaultLimits {
            response_timeout: seconds(self.response_timeout, "response_timeout")?,
            max_retries: self.max_retries,
            startup_wait: seconds(self.startup_wait, "startup_wait")?,
        })
    }
}

/// A rule file: per server name, its rules; plus limits when it is the seed-004 JSON.
#[derive(Debug, Default)]
pub struct RuleFile {
    /// Rules per server name.
    pub servers: IndexMap<String, Rules>,
    /// `default_limits` of a seed-004 router JSON.
    pub limits: Option<DefaultLimits>,
}

/// Load a rule file: TOML (`[servers.NAME]` tables of [`RuleSpec`]) or the seed-004 router JSON
/// (`server_keywords`, `task_patterns`, `default_limits`).
pub fn load_file(path: &Path) -> Result<RuleFile, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: file.clone(),
        source,
    })?;
    parse_file(&text, &file)
}

/// Parse a rule file's text.
pub fn parse_file(text: &str, file: &str) -> Result<RuleFile, ConfigError> {
    if text.trim_start().starts_with('{') {
        #[derive(Deserialize)]
        struct Seed {
            #[serde(default)]
            server_keywords: IndexMap<String, Vec<WeightedSpec>>,
            #[serde(default)]
            task_patterns: IndexMap<String, Vec<WeightedSpec>>,
            default_limits: Option<LimitsSpec>,
        }
        let seed: Seed =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(text))
                .map_err(|e| ConfigError::from_path_error(file, e))?;
        let mut servers: IndexMap<String, Rules> = IndexMap::new();
        for (name, kws) in &seed.server_keywords {
            let spec = RuleSpec {
                keywords: kws.clone(),
                ..Default::default()
            };
            servers
                .entry(name.clone())
                .or_default()
                .extend(spec.build(file, &format!("server_keywords.{name}"))?);
        }
        for (name, pats) in &seed.task_patterns {
            let spec = RuleSpec {
                patterns: pats.clone(),
                ..Default::default()
            };
            let rules = spec.build(file, &format!("task_patterns.{name}"))?;
            servers.entry(name.clone()).or_default().extend(rules);
        }
        return Ok(RuleFile {
            servers,
            limits: seed.default_limits.map(|l| l.build(file)).transpose()?,
        });
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Toml {
        #[serde(default)]
        servers: IndexMap<String, RuleSpec>,
    }
    let de = toml::Deserializer::parse(text).map_err(|e| {
        ConfigError::invalid(file, ".", super::error::without_snippet(&e.to_string()))
    })?;
    let t: Toml =
        serde_path_to_error::deserialize(de).map_err(|e| ConfigError::from_path_error(file, e))?;
    let mut servers = IndexMap::new();
    for (name, spec) in t.servers {
        let rules = spec.build(file, &format!("servers.{name}"))?;
        servers.insert(name, rules);
    }
    Ok(RuleFile {
        servers,
        limits: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_router_json_loads_unchanged() {
        let f = parse_file(
            r#"{"server_keywords": {"weather-api": ["weather", "forecast"], "email-server": ["email"]},
                "task_patterns": {"weather-api": ["what.+weather", "temperature.+in"]},
                "default_limits": {"response_timeout": 10, "max_retries": 3, "startup_wait": 5}}"#,
            "r.json",
        )
        .unwrap();
        let w = &f.servers["weather-api"];
        assert_eq!(w.keywords.len(), 2);
        assert_eq!(w.patterns[0].text, "what.+weather");
        assert_eq!(f.limits.unwrap().max_retries, Some(3));
    }

    #[test]
    fn a_huge_response_timeout_is_an_error_not_a_panic() {
        let e = parse_file(
            r#"{"server_keywords": {}, "default_limits": {"response_timeout": 1e300}}"#,
            "r.json",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("default_limits.response_timeout"), "{e}");
    }

    #[test]
    fn toml_rules_with_weights_and_bad_regexes() {
        let f = parse_file(
            "[servers.w]\nkeywords = [\"Rain\", { term = \"umbrella\", weight = 2.5 }]\npatterns = [{ regex = \"will it (rain|snow)\", weight = 3 }]\nnegative_keywords = [\"whether\"]\n",
            "r.toml",
        )
        .unwrap();
        let w = &f.servers["w"];
        assert_eq!(
            w.keywords[0],
            Weighted {
                text: "rain".into(),
                weight: 1.0
            }
        );
        assert_eq!(w.keywords[1].weight, 2.5);
        assert_eq!(w.negative[0].text, "whether");
        let e = parse_file(
            "[servers.w]\npatterns = [\"ok\", \"(unclosed\"]\n",
            "r.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("servers.w.patterns[1]") && e.contains("(unclosed"),
            "{e}"
        );
    }

    #[test]
    fn an_example_is_counted_once() {
        let e = parse_file(
            "[servers.w]\nexamples = [\"will it rain\", \"umbrella today?\", \" Will it rain \"]\n",
            "r.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("servers.w.examples[2]") && e.contains("already in the list"),
            "{e}"
        );
        let rules = |list: &str| {
            let text = format!("[servers.w]\nexamples = [{list}]\n");
            parse_file(&text, "r.toml").unwrap().servers["w"].clone()
        };
        let mut mine = rules("\"will it rain\", \"umbrella today?\"");
        mine.extend(rules("\"Will it rain\", \"is it windy\""));
        assert_eq!(
            mine.examples,
            ["will it rain", "umbrella today?", "is it windy"],
            "a repeat of one set's example by another is dropped"
        );
    }
}
