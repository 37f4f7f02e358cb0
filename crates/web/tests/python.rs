//! Our Python emulations against `python3` itself, on random inputs: `repr((key, username))`,
//! `DictReader(text.splitlines())` with `strip()`, and `UUID()`.

use std::io::Write;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

/// Runs `script` on the JSON array `inputs` (stdin) and returns its JSON output.
fn python(script: &str, inputs: &serde_json::Value) -> serde_json::Value {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for these tests");
    child.stdin.take().unwrap().write_all(inputs.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

fn samples<S: Strategy>(strategy: S, n: usize) -> Vec<S::Value> {
    // Seeded from the system: each run tries new inputs (PROPTEST_RNG_SEED replays one).
    let mut runner = TestRunner::default();
    (0..n).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect()
}

/// Characters Python treats specially: quotes, backslash, controls, Latin-1, separators,
/// format characters, private use, unassigned, astral; and any character.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec!['\'', '"', '\\', ' ', 'a', 'Z', '0', ',', '\t', '\n', '\r', '\u{0}', '\u{7f}']),
        (0u32..0x100).prop_filter_map("char", char::from_u32),
        prop::sample::select(vec![
            '\u{85}',
            '\u{a0}',
            '\u{ad}',
            '\u{300}',
            '\u{378}',
            '\u{61c}',
            '\u{200b}',
            '\u{200e}',
            '\u{2028}',
            '\u{2029}',
            '\u{202f}',
            '\u{3000}',
            '\u{e000}',
            '\u{feff}',
            '\u{fffd}',
            '\u{ffff}',
            '\u{1f600}',
            '\u{e0001}',
            '\u{f0000}',
            '\u{10ffff}',
            'é',
            'ß',
            '中',
        ]),
        any::<char>(),
    ]
}

#[test]
fn tuple_repr_matches_python() {
    let strings = || prop::collection::vec(tricky_char(), 0..12).prop_map(|c| c.into_iter().collect::<String>());
    let pairs = samples((strings(), strings()), 3000);
    let expected = python(
        "import json,sys; print(json.dumps([str((a, b)) for a, b in json.load(sys.stdin)]))",
        &serde_json::to_value(&pairs).unwrap(),
    );
    for ((key, username), expected) in pairs.iter().zip(expected.as_array().unwrap()) {
        assert_eq!(web::pyrepr::tuple_repr(key, username), expected.as_str().unwrap(), "{key:?} {username:?}");
    }
}

#[test]
fn reading_the_text_matches_python() {
    let alphabet = prop::sample::select(vec![
        'a', 'b', ',', ',', '"', '"', ' ', '\r', '\n', '\n', '\u{b}', '\u{c}', '\u{1c}', '\u{1f}', '\u{85}',
        '\u{2028}', '\t', '\u{a0}', '\u{3000}', 'é', '\u{0}',
    ]);
    let texts = samples(prop::collection::vec(alphabet, 0..40).prop_map(|c| c.into_iter().collect::<String>()), 3000);
    let expected = python(
        "import csv,json,sys\n\
         out = []\n\
         for t in json.load(sys.stdin):\n\
         \x20   rows = csv.DictReader(t.splitlines(), fieldnames=('external_key', 'username'))\n\
         \x20   out.append([[(r.get('external_key') or '').strip(), (r['username'] or '').strip()] for r in rows])\n\
         print(json.dumps(out))",
        &serde_json::to_value(&texts).unwrap(),
    );
    for (text, expected) in texts.iter().zip(expected.as_array().unwrap()) {
        let expected: Vec<(String, String)> = serde_json::from_value(expected.clone()).unwrap();
        assert_eq!(web::text::stripped_pairs(text), expected, "{text:?}");
    }
}

#[test]
fn program_uuids_match_python() {
    let alphabet = prop::sample::select(vec![
        "0",
        "1",
        "9",
        "a",
        "F",
        "-",
        "{",
        "}",
        "_",
        "+",
        " ",
        "x",
        "0x",
        "urn:",
        "uuid:",
        "g",
        "8bee627e",
        "d85e",
        "4a76",
        "be41",
        "d58921da666e",
        "\u{a0}",
    ]);
    let inputs = samples(prop::collection::vec(alphabet, 0..14).prop_map(|p| p.concat()), 3000);
    let mut inputs = inputs;
    inputs.extend(
        [
            "8bee627e-d85e-4a76-be41-d58921da666e",
            "{8bee627ed85e4a76be41d58921da666e}",
            "0x_8bee627ed85e4a76be41d58921da66",
        ]
        .map(String::from),
    );
    let expected = python(
        "import json,sys,uuid\n\
         def f(s):\n\
         \x20   try:\n\
         \x20       return str(uuid.UUID(s))\n\
         \x20   except ValueError:\n\
         \x20       return None\n\
         print(json.dumps([f(s) for s in json.load(sys.stdin)]))",
        &serde_json::to_value(&inputs).unwrap(),
    );
    for (input, expected) in inputs.iter().zip(expected.as_array().unwrap()) {
        let ours = web::text::python_uuid(input).map(|u| u.to_string());
        assert_eq!(ours.as_deref(), expected.as_str(), "{input:?}");
    }
}
