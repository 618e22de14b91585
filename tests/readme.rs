//! The README says what the code does: its error table is the classification's own.

use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

#[test]
fn the_error_table_is_derived_from_the_classification() {
    let table = switchboard::call::failure::table();
    assert!(
        readme().contains(&table),
        "README.md's error table differs from the classification; replace it with:\n{table}"
    );
}
