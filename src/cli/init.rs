//! `init`: a commented starter configuration that loads and runs as it is.

use std::path::Path;

/// The starter file (`starter.toml` beside this file).
pub const STARTER: &str = include_str!("starter.toml");

/// Write the starter to `out`, unless it exists (and `force` is not given).
pub fn run(out: &Path, force: bool) -> Result<(), String> {
    if out.exists() && !force {
        return Err(format!(
            "{} exists; use --force to replace it, or --out for another file",
            out.display()
        ));
    }
    std::fs::write(out, STARTER).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    println!(
        "wrote {}: two demo servers and commented examples.\nnext: switchboard check --config {0}; switchboard serve --config {0}",
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_starter_loads_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchboard.toml");
        std::fs::write(&path, super::STARTER).unwrap();
        let c = crate::config::Config::load(&path).unwrap();
        let names: Vec<&str> = c.servers.iter().map(|s| &*s.name).collect();
        assert_eq!(names, ["text", "math"]);
    }
}
