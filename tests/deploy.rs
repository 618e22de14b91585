//! The recipes in `deploy/` checked by real linters: hadolint (the Dockerfile), dclint (the
//! Compose file), kubernetes-validate against the Kubernetes 1.37 schemas and yamllint (the
//! manifests), `systemd-analyze verify` (the unit); the probes the manifests name; and every
//! switchboard configuration they carry loads as the gateway would load it.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(file)
}

/// Run `cmd`; its output, or a failure showing it.
fn passes(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

#[test]
fn the_dockerfile_passes_hadolint() {
    needs_peers!();
    let out = passes(Command::new(tools_dir().join("venv/bin/hadolint")).arg(deploy("Dockerfile")));
    assert!(out.trim().is_empty(), "hadolint has remarks:\n{out}");
}

#[test]
fn the_compose_file_passes_dclint() {
    needs_peers!();
    let out = passes(
        Command::new(tools_dir().join("npm/node_modules/.bin/dclint")).arg(deploy("compose.yaml")),
    );
    assert!(!out.contains("warning") && !out.contains("error"), "{out}");
}

/// The documents of a YAML file, as JSON (PyYAML, which yamllint brings).
fn documents(file: &Path) -> Vec<Value> {
    let script =
        "import json,sys,yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = passes(Command::new(python()).args(["-c", script]).arg(file));
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_kubernetes_manifests_validate_and_probe_ready_and_health() {
    needs_peers!();
    let files = [
        deploy("kubernetes/deployment.yaml"),
        deploy("kubernetes/sidecar.yaml"),
        deploy("kubernetes/replicas.yaml"),
    ];
    let out = passes(Command::new(tools_dir().join("venv/bin/kubernetes-validate")).args(&files));
    assert_eq!(out.matches("passed for resource").count(), 12, "{out}");
    passes(
        Command::new(tools_dir().join("venv/bin/yamllint"))
            .args([
                "-d",
                "{extends: relaxed, rules: {line-length: {max: 120}}}",
                "--strict",
            ])
            .args(&files)
            .arg(deploy("compose.yaml")),
    );
    let gateway_of = |docs: &[Value]| -> Value {
        let d = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
        let containers = d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        containers
            .iter()
            .find(|c| c["name"] == "switchboard")
            .unwrap()
            .clone()
    };
    let shared = gateway_of(&documents(&files[0]));
    assert_eq!(shared["readinessProbe"]["httpGet"]["path"], "/ready");
    assert_eq!(shared["livenessProbe"]["httpGet"]["path"], "/health");
    let replicas = documents(&files[2]);
    let many = gateway_of(&replicas);
    assert_eq!(many["readinessProbe"]["httpGet"]["path"], "/ready");
    let deployment = replicas
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "switchboard-replicas")
        .unwrap();
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert!(
        replicas
            .iter()
            .any(|d| d["kind"] == "Service" && d["metadata"]["name"] == "switchboard-redis"),
        "the Redis the replicas share"
    );
    let sidecar = gateway_of(&documents(&files[1]));
    let exec = |probe: &str| {
        sidecar[probe]["exec"]["command"]
            .as_array()
            .unwrap()
            .clone()
    };
    assert!(exec("readinessProbe").iter().any(|a| a == "--ready"));
    assert!(exec("livenessProbe").iter().any(|a| a == "health"));
    for c in [&shared, &sidecar, &many] {
        assert_eq!(
            c["volumeMounts"][0]["mountPath"], "/etc/switchboard",
            "a directory mount (no subPath) sees ConfigMap updates"
        );
        assert!(c["volumeMounts"][0].get("subPath").is_none());
    }
}

#[test]
fn the_systemd_unit_verifies_and_reloads_with_sighup() {
    let unit = std::fs::read_to_string(deploy("switchboard.service")).unwrap();
    assert!(
        unit.contains("ExecReload=/bin/kill -HUP $MAINPID"),
        "{unit}"
    );
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("SWITCHBOARD_REQUIRE_PEERS").is_none(),
            "systemd-analyze is missing"
        );
        return;
    }
    // The binary it starts must exist for the check: this build's, under the unit's name.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchboard.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/switchboard", switchboard_bin()),
    )
    .unwrap();
    let out = passes(Command::new("systemd-analyze").arg("verify").arg(&path));
    assert!(out.trim().is_empty(), "systemd-analyze has remarks:\n{out}");
}

#[test]
fn every_configuration_the_recipes_carry_loads() {
    needs_peers!();
    let dir = tempfile::tempdir().unwrap();
    let mut configs = vec![(
        "compose".to_string(),
        std::fs::read_to_string(deploy("compose/switchboard.toml")).unwrap(),
    )];
    for file in [
        "kubernetes/deployment.yaml",
        "kubernetes/sidecar.yaml",
        "kubernetes/replicas.yaml",
    ] {
        for d in documents(&deploy(file))
            .iter()
            .filter(|d| d["kind"] == "ConfigMap")
        {
            let text = d["data"]["switchboard.toml"].as_str().unwrap().to_string();
            configs.push((file.to_string(), text));
        }
    }
    assert_eq!(configs.len(), 4);
    // The Deployment's key comes from its Secret; this test process is its only reader.
    std::env::set_var("SWITCHBOARD_AGENT_KEY", "a-key-long-enough-for-the-check");
    // What the Kubernetes downward API gives the replicas' pods.
    std::env::set_var("POD_NAME", "switchboard-replicas-0");
    std::env::set_var("POD_IP", "10.0.0.5");
    for (from, text) in configs {
        let path = dir.path().join("switchboard.toml");
        std::fs::write(&path, text).unwrap();
        let config =
            switchboard::config::Config::load(&path).unwrap_or_else(|e| panic!("{from}: {e}"));
        assert!(!config.servers.is_empty(), "{from}");
        assert!(config.gateway.watch, "{from}: reload on change stays on");
    }
}
