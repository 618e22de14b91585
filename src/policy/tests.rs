//! Decisions over rules as a configuration writes them.

use super::*;
use crate::call::Via;
use crate::config::{Config, PolicyRule};

fn rules(toml: &str) -> Vec<PolicyRule> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    std::fs::write(&path, toml).unwrap();
    Config::load(&path).unwrap().policy
}

fn who(roles: &[&str]) -> Identity {
    Identity::new(
        "alice",
        roles.iter().map(|r| r.to_string()).collect(),
        Via::Jwt,
    )
}

fn call<'a>(name: &'a str, args: &'a str) -> Target<'a> {
    Target {
        name,
        server: "fs",
        method: "tools/call",
        arguments: Some(args),
    }
}

const RULES: &str = r#"
[[policy]]
roles = ["reader"]
allow = ["time__*", "everything__echo"]
[[policy]]
roles = ["ops"]
allow = ["*"]
deny = ["everything__get-env"]
[[policy]]
name = "public files"
roles = ["files"]
allow = ["fs__read_text_file"]
when = 'args.path.startsWith("/srv/public/")'
"#;

#[test]
fn roles_allow_and_deny_wins() {
    let p = Policy::new(rules(RULES));
    let reader = who(&["reader"]);
    assert!(p.visible(&reader, "time__get_current_time"));
    assert!(p.visible(&reader, "everything__echo"));
    assert!(!p.visible(&reader, "everything__add"));
    let ops = who(&["ops"]);
    assert!(p.visible(&ops, "everything__add"));
    assert!(!p.visible(&ops, "everything__get-env"));
    let d = p.decide(&ops, &call("everything__get-env", "{}"));
    assert_eq!(d.rule().map(|r| &**r), Some("policy[1]"));
    assert!(!d.allowed());
    assert!(!p.visible(&who(&[]), "time__x"), "no role: nothing allowed");
}

#[test]
fn a_condition_lists_the_tool_and_checks_each_call() {
    let p = Policy::new(rules(RULES));
    let files = who(&["files"]);
    assert!(p.visible(&files, "fs__read_text_file"));
    let ok = p.decide(
        &files,
        &call("fs__read_text_file", r#"{"path":"/srv/public/a.txt"}"#),
    );
    assert_eq!(
        ok,
        Decision::Allow {
            rule: Some("public files".into())
        }
    );
    let no = p.decide(
        &files,
        &call("fs__read_text_file", r#"{"path":"/etc/passwd"}"#),
    );
    let Decision::Deny { rule, reason } = no else {
        panic!("allowed")
    };
    assert_eq!(rule.as_deref(), Some("public files"));
    assert!(reason.contains("does not meet the condition"), "{reason}");
    let missing = p.decide(&files, &call("fs__read_text_file", "{}"));
    let Decision::Deny { reason, .. } = missing else {
        panic!("allowed without a path")
    };
    assert!(reason.contains("could not be evaluated"), "{reason}");
}

#[test]
fn conditions_see_the_identity() {
    let p = Policy::new(rules(
        r#"
[[policy]]
allow = ["*"]
when = 'identity.sub == "alice" && "ops" in identity.roles && name.startsWith("fs__")'
"#,
    ));
    assert!(p.decide(&who(&["ops"]), &call("fs__x", "{}")).allowed());
    assert!(!p.decide(&who(&["dev"]), &call("fs__x", "{}")).allowed());
    assert!(!p.decide(&who(&["ops"]), &call("git__x", "{}")).allowed());
}

#[test]
fn without_rules_everything_is_allowed() {
    let p = Policy::new(Vec::new());
    assert!(p.visible(&who(&[]), "anything"));
    assert!(p.decide(&who(&[]), &call("anything", "{}")).allowed());
}

#[test]
fn a_bad_expression_or_glob_is_a_load_error_naming_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.toml");
    std::fs::write(
        &path,
        "[[policy]]\nallow = [\"*\"]\nwhen = 'args.path.startsWith('\n",
    )
    .unwrap();
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("policy[0].when") && err.contains("CEL"),
        "{err}"
    );
    std::fs::write(&path, "[[policy]]\nallow = [\"a[\"]\n").unwrap();
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("policy[0].allow[0]"), "{err}");
}
