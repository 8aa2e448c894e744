// SPDX-License-Identifier: Apache-2.0
//! End-to-end tests of the `freshet` binary for commands that need no server.

use std::path::Path;
use std::process::{Command, Output};

fn freshet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_freshet"))
        .args(args)
        // Keep the developer's environment from changing results.
        .env_remove("FRESHET_CONFIG")
        .env_remove("FRESHET_ENDPOINT")
        .output()
        .expect("run freshet")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_lists_every_command() {
    let out = freshet(&["--help"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for cmd in ["serve", "config", "streams", "put", "tail", "inspect"] {
        assert!(text.contains(cmd), "--help does not mention {cmd}:\n{text}");
    }
}

#[test]
fn default_config_is_valid_toml_that_mentions_durability() {
    let out = freshet(&["config", "default"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let parsed: Result<toml::Table, _> = text.parse();
    assert!(parsed.is_ok(), "default config does not parse: {parsed:?}");
    assert!(text.contains("durability"), "{text}");
}

#[test]
fn config_check_accepts_the_default_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("freshet.toml");
    std::fs::write(&path, stdout(&freshet(&["config", "default"]))).expect("write config");
    let out = freshet(&["config", "check", path_str(&path)]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn config_check_names_an_unknown_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("freshet.toml");
    std::fs::write(&path, "[storage]\ndurabilty = \"none\"\n").expect("write config");
    let out = freshet(&["config", "check", path_str(&path)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("durabilty"), "{}", stderr(&out));
}

#[test]
fn serve_with_an_invalid_config_exits_with_code_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("freshet.toml");
    std::fs::write(&path, "[server]\nlisten = \"not an address\"\n").expect("write config");
    let out = freshet(&["serve", "--config", path_str(&path)]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("listen"), "{}", stderr(&out));
}

#[test]
fn inspect_of_a_missing_path_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let out = freshet(&["inspect", path_str(&missing)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("nope"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn client_commands_report_an_unreachable_server() {
    // Port 1 on localhost is essentially never listening.
    let out = freshet(&["--endpoint", "http://127.0.0.1:1", "streams", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ListStreams"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}
