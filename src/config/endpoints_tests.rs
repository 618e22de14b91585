//! `[endpoints]`: what an endpoint admits, and errors that name the field.

use super::super::expand::Context;
use super::super::{Config, ConfigError};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, "test.conf", &Context::default())
}

const SERVERS: &str = "[servers.time]\ncommand = \"t\"\n[servers.everything]\ncommand = \"e\"\n";

#[test]
fn an_endpoint_admits_its_servers_globs_and_renames() {
    let c = parse(&format!(
        r#"{SERVERS}
[endpoints.ide]
servers = ["everything", "time"]
include = ["everything__echo", "time__*"]
exclude = ["time__convert_time"]
expose = "search"
[endpoints.ide.overrides."time__get_current_time"]
name = "now"
description = "The time"
annotations = {{ readOnlyHint = true }}

[endpoints.all]
"#
    ))
    .unwrap();
    let ide = c.endpoint("ide").unwrap();
    assert_eq!(ide.servers, Some(vec![1, 0]));
    assert!(ide.has_server(0) && ide.has_server(1));
    assert!(ide.admits("everything__echo") && ide.admits("time__get_current_time"));
    assert!(!ide.admits("time__convert_time") && !ide.admits("everything__add"));
    assert_eq!(ide.expose, super::Expose::Search);
    assert_eq!(
        &**ide.renamed_from("now").unwrap(),
        "time__get_current_time"
    );
    assert!(ide.renames("time__get_current_time") && !ide.renames("everything__echo"));
    let o = &ide.overrides["time__get_current_time"];
    assert_eq!(o.description.as_deref(), Some("The time"));
    assert_eq!(o.annotations.as_ref().unwrap()["readOnlyHint"], true);
    let all = c.endpoint("all").unwrap();
    assert!(all.servers.is_none() && all.admits("anything") && all.has_server(7));
    assert!(c.gateway.aggregate, "the aggregate stays on by default");
}

#[test]
fn endpoint_errors_name_the_field() {
    let cases = [
        ("[endpoints.\"a/b\"]\n", "endpoints.a/b", "URL path segment"),
        ("[endpoints.x]\nservers = [\"time\", \"nope\"]\n", "endpoints.x.servers[1]", "\"nope\" is not a configured server"),
        ("[endpoints.x]\ninclude = [\"a[\"]\n", "endpoints.x.include[0]", "not a valid glob"),
        ("[endpoints.x.overrides.\"time__a\"]\nname = \"has space\"\n", "endpoints.x.overrides.time__a.name", "may use only"),
        (
            "[endpoints.x.overrides.\"time__a\"]\nname = \"n\"\n[endpoints.x.overrides.\"time__b\"]\nname = \"n\"\n",
            "endpoints.x.overrides.time__b.name",
            "already the new name of \"time__a\"",
        ),
        ("[endpoints.x]\nexpose = \"some\"\n", "endpoints.x.expose", "unknown variant"),
        ("[endpoints.x]\nserver = []\n", "endpoints.x", "unknown field"),
        ("[gateway]\naggregate = false\n", "gateway.aggregate", "at least one [endpoints.NAME]"),
    ];
    for (text, field, problem) in cases {
        let e = parse(&format!("{SERVERS}{text}")).unwrap_err().to_string();
        assert!(e.contains(field) && e.contains(problem), "{text}: {e}");
    }
}
