//! The `objrt-inspect` binary end to end: each command's output and exit
//! status on the sample heap, the SVG files it writes, and a clean error
//! (a message on stderr, a non-zero status, no panic) for every bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_objrt-inspect"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes `contents` into `dir/name` and returns the path as a string.
fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("a scratch file");
    path.to_string_lossy().into_owned()
}

/// Runs `args` and checks it fails cleanly: status `status`, nothing on
/// stdout, a one-line message containing `message` on stderr.
fn assert_fails(args: &[&str], status: i32, message: &str) {
    let output = run(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(status), "{args:?}: {err}");
    assert!(output.stdout.is_empty(), "{args:?}");
    assert!(err.starts_with("objrt-inspect: "), "{args:?}: {err}");
    assert!(err.contains(message), "{args:?}: {err:?} lacks {message:?}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
}

#[test]
fn each_command_prints_its_report() {
    let dir = common::scratch_dir("commands");
    let sample = write(&dir, "sample.json", common::SAMPLE);
    let later = write(&dir, "later.json", &common::sample_later());

    let types = run(&["types", &sample]);
    assert!(types.status.success());
    assert!(stdout(&types).contains("| Node     |       4 |   256 |  17.5% |"));

    let retainers = run(&["retainers", &sample, "--top", "1"]);
    assert!(retainers.status.success());
    assert!(stdout(&retainers).contains("| 0x200 | type Node |       400 |            500 |"));
    assert!(stdout(&retainers).contains("(9 more)"));
    let retainers = run(&["retainers", "--top=3", &sample]);
    assert!(stdout(&retainers).contains("(7 more)"));

    for id in ["0x700", "1792"] {
        let path = run(&["path", &sample, id]);
        assert!(path.status.success());
        assert_eq!(
            stdout(&path),
            "root 0x400 (Registry, held by the host: 1 reference)\n  .items [attribute] -> 0x500 (list)\n  [1] [item] -> 0x700 (Node)\n"
        );
    }
    let garbage = run(&["path", &sample, "0x900"]);
    assert!(
        garbage.status.success(),
        "an unreachable object is an answer, not an error"
    );
    assert!(stdout(&garbage).contains("reachable from no root"));

    let diff = run(&["diff", &sample, &later]);
    assert!(diff.status.success());
    assert!(stdout(&diff).contains("+128"));

    let help = run(&["--help"]);
    assert!(help.status.success());
    assert!(stdout(&help).contains("objrt-inspect graph SNAPSHOT ID [--depth D] -o OUT.svg"));
}

#[test]
fn svg_commands_write_well_formed_files() {
    let dir = common::scratch_dir("svg");
    let sample = write(&dir, "sample.json", common::SAMPLE);
    let graph_path: PathBuf = dir.join("graph.svg");
    let graph = run(&[
        "graph",
        &sample,
        "0x600",
        "--depth",
        "1",
        "-o",
        &graph_path.to_string_lossy(),
    ]);
    assert!(graph.status.success(), "{}", stderr(&graph));
    assert!(stdout(&graph).contains("(6 objects around 0x600)"));
    let svg = std::fs::read_to_string(&graph_path).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("well-formed XML");
    assert!(
        document
            .descendants()
            .any(|node| node.text() == Some(".other"))
    );
    // Depth 1 leaves out the Registry (two steps up).
    assert!(
        !document
            .descendants()
            .any(|node| node.text() == Some("Registry"))
    );

    let arenas_path = dir.join("arenas.svg");
    let arenas = run(&["arenas", &sample, "-o", &arenas_path.to_string_lossy()]);
    assert!(arenas.status.success(), "{}", stderr(&arenas));
    assert!(stdout(&arenas).contains("(2 arenas)"));
    let svg = std::fs::read_to_string(&arenas_path).unwrap();
    roxmltree::Document::parse(&svg).expect("well-formed XML");
}

#[test]
fn bad_input_is_an_error_message_not_a_panic() {
    let dir = common::scratch_dir("errors");
    let sample = write(&dir, "sample.json", common::SAMPLE);
    let missing = dir.join("missing.json").to_string_lossy().into_owned();
    let not_json = write(&dir, "not.json", "{\"format\": \"objrt-heap-snapshot\", ");
    let other_format = write(
        &dir,
        "other.json",
        r#"{"format": "chrome-heap", "nodes": []}"#,
    );
    let version_two = write(
        &dir,
        "v2.json",
        r#"{"format": "objrt-heap-snapshot", "version": 2, "objects": {}}"#,
    );
    let no_format = write(&dir, "array.json", "[1, 2, 3]");
    let dangling = write(
        &dir,
        "dangling.json",
        r#"{"format": "objrt-heap-snapshot", "version": 1, "objects": [
            {"id": 1, "type": "list", "size": 56, "refcount": 1, "edges": [{"to": 99, "kind": "item", "index": 0}]}]}"#,
    );
    let duplicate = write(
        &dir,
        "duplicate.json",
        r#"{"format": "objrt-heap-snapshot", "version": 1, "objects": [
            {"id": 1, "type": "int", "size": 32, "refcount": 1, "edges": []},
            {"id": 1, "type": "int", "size": 32, "refcount": 1, "edges": []}]}"#,
    );

    assert_fails(&["types", &missing], 1, "missing.json");
    assert_fails(
        &["types", &not_json],
        1,
        "not a heap snapshot: EOF while parsing",
    );
    assert_fails(
        &["types", &other_format],
        1,
        "its format is \"chrome-heap\"",
    );
    assert_fails(
        &["retainers", &version_two],
        1,
        "it is version 2; this tool reads version 1",
    );
    assert_fails(&["types", &no_format], 1, "not a heap snapshot");
    assert_fails(
        &["types", &dangling],
        1,
        "an edge of 0x1 goes to 0x63, which is not listed",
    );
    assert_fails(&["types", &duplicate], 1, "two objects have the id 0x1");
    assert_fails(
        &["path", &sample, "0xdead"],
        1,
        "no object has id 0xdead (57005)",
    );
    assert_fails(
        &["graph", &sample, "12345", "-o", "/dev/null"],
        1,
        "no object has id",
    );
    let unwritable = dir
        .join("no/such/dir/out.svg")
        .to_string_lossy()
        .into_owned();
    assert_fails(&["arenas", &sample, "-o", &unwritable], 1, "out.svg");

    assert_fails(&[], 2, "no command given");
    assert_fails(&["shrink", &sample], 2, "unknown command \"shrink\"");
    assert_fails(&["types"], 2, "usage: objrt-inspect types SNAPSHOT");
    assert_fails(
        &["types", &sample, &sample],
        2,
        "usage: objrt-inspect types SNAPSHOT",
    );
    assert_fails(
        &["path", &sample, "zebra"],
        2,
        "\"zebra\" is not an object id",
    );
    assert_fails(&["retainers", &sample, "--top"], 2, "--top needs a value");
    assert_fails(
        &["retainers", &sample, "--top", "many"],
        2,
        "--top takes a number",
    );
    assert_fails(
        &["types", &sample, "--top", "3"],
        2,
        "types takes no --top option",
    );
    assert_fails(&["graph", &sample, "0x600"], 2, "graph needs -o OUT.svg");
    assert_fails(
        &["arenas", &sample, "--colour"],
        2,
        "unknown option --colour",
    );
}
