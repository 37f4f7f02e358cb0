//! Every file of this folder is a module of the one test binary (`main.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn every_file_of_this_folder_is_a_module_of_main_rs() {
    acceptance::layout::assert_every_file_is_a_module(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"));
}
