//! The README says what the code does: its error table is the classification's own.
//! `cargo test --test readme -- --ignored` rewrites the generated parts.

use std::path::{Path, PathBuf};

const TABLE_START: &str = "<!-- error table: generated, see tests/readme.rs -->\n";
const TABLE_END: &str = "<!-- end of error table -->";

fn path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")
}

/// The README's generated error table, and where it sits.
fn table_in(readme: &str) -> (usize, usize) {
    let start = readme
        .find(TABLE_START)
        .expect("the README marks its error table")
        + TABLE_START.len();
    let end = readme[start..]
        .find(TABLE_END)
        .expect("the error table ends")
        + start;
    (start, end)
}

#[test]
fn the_error_table_is_derived_from_the_classification() {
    let readme = std::fs::read_to_string(path()).unwrap();
    let (start, end) = table_in(&readme);
    assert_eq!(
        &readme[start..end],
        switchboard::call::failure::table(),
        "README.md's error table differs from the classification: run `cargo test --test readme -- --ignored`"
    );
}

#[test]
#[ignore = "rewrites README.md"]
fn write_the_generated_parts() {
    let mut readme = std::fs::read_to_string(path()).unwrap();
    let (start, end) = table_in(&readme);
    readme.replace_range(start..end, &switchboard::call::failure::table());
    std::fs::write(path(), readme).unwrap();
}
