//! The guard of the one-binary layout of a tests folder: with `autotests = false`, a file of
//! the folder that its `main.rs` does not declare would be neither compiled nor run.

use std::collections::BTreeSet;
use std::path::Path;

/// Panics unless the modules `dir/main.rs` declares (its `mod NAME;` lines) are exactly the
/// `.rs` files and the directories holding a `mod.rs` of `dir`, `main.rs` aside.
pub fn assert_every_file_is_a_module(dir: &Path) {
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    let declared: BTreeSet<String> = main
        .lines()
        .filter_map(|line| line.trim().strip_prefix("mod ")?.strip_suffix(';').map(str::to_owned))
        .collect();
    let mut files = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() && path.join("mod.rs").exists() {
            files.insert(name);
        } else if let Some(module) = name.strip_suffix(".rs").filter(|m| *m != "main") {
            files.insert(module.to_owned());
        }
    }
    assert_eq!(declared, files, "the `mod` lines of {}/main.rs and the files beside it", dir.display());
}
