// SPDX-License-Identifier: Apache-2.0
//! Tracker tests on temp directories: late files, rename and copytruncate rotation, resumes.

use std::io::Write as _;

use super::*;

fn opts(dir: &Path, glob: &str, initial: InitialPosition) -> TrackerOptions {
    TrackerOptions {
        directory: dir.to_owned(),
        file_glob: glob.to_owned(),
        initial_position: initial,
        rules: Arc::new(SplitRules {
            multi_line_start: None,
            file_footer: None,
            skip_header_lines: 0,
            max_record: 1024,
            terminator: b"\n".to_vec(),
        }),
        refresh_interval: Duration::from_secs(10),
        flush_when_idle: true,
    }
}

fn tracker(dir: &Path, glob: &str, initial: InitialPosition, entries: Vec<Entry>) -> Tracker {
    Tracker::new(opts(dir, glob, initial), entries).unwrap_or_else(|e| panic!("{e}"))
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("{e}"));
    f.write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Polls until idle; returns the records' text and the last mark per file.
fn drain(t: &mut Tracker) -> (Vec<String>, Vec<FilePiece>) {
    let mut lines = Vec::new();
    let mut pieces = Vec::new();
    for _ in 0..20 {
        let p = t.poll(Instant::now(), true);
        for fp in &p.pieces {
            if let Piece::Record { data, .. } = &fp.piece {
                lines.push(String::from_utf8_lossy(data).trim_end().to_owned());
            }
        }
        pieces.extend(p.pieces);
        if !p.read_any {
            break;
        }
    }
    (lines, pieces)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_file_that_appears_later_is_read_from_its_start() {
    let dir = tempdir();
    append(&dir.path().join("a.log"), "a1\n");
    let mut t = tracker(dir.path(), "*.log", InitialPosition::StartOfFile, vec![]);
    assert_eq!(drain(&mut t).0, ["a1"]);
    append(&dir.path().join("b.log"), "b1\nb2\n");
    append(&dir.path().join("b.txt"), "not matched\n");
    assert_eq!(drain(&mut t).0, ["b1", "b2"]);
}

#[test]
fn end_of_file_skips_what_exists_at_start_but_start_of_file_reads_it() {
    let dir = tempdir();
    let path = dir.path().join("a.log");
    append(&path, "old\npartial");
    let mut t = tracker(dir.path(), "a.log", InitialPosition::EndOfFile, vec![]);
    assert!(drain(&mut t).0.is_empty());
    // The partial line was not yet complete at start: it is sent once it is.
    append(&path, " line\nnew\n");
    assert_eq!(drain(&mut t).0, ["partial line", "new"]);
    let mut t = tracker(dir.path(), "a.log", InitialPosition::StartOfFile, vec![]);
    assert_eq!(drain(&mut t).0, ["old", "partial line", "new"]);
}

#[test]
fn a_partial_line_waits_for_its_newline() {
    let dir = tempdir();
    let path = dir.path().join("a.log");
    append(&path, "one\ntw");
    let mut t = tracker(dir.path(), "a.log", InitialPosition::StartOfFile, vec![]);
    assert_eq!(drain(&mut t).0, ["one"]);
    append(&path, "o\n");
    assert_eq!(drain(&mut t).0, ["two"]);
}

#[test]
fn rename_rotation_reads_every_line_once_even_when_the_old_file_grows() {
    let dir = tempdir();
    let live = dir.path().join("app.log");
    append(&live, "1\n2\n");
    let mut t = tracker(dir.path(), "app.log", InitialPosition::StartOfFile, vec![]);
    assert_eq!(drain(&mut t).0, ["1", "2"]);
    append(&live, "3\n");
    std::fs::rename(&live, dir.path().join("app.log.1")).unwrap_or_else(|e| panic!("{e}"));
    // The writer has not reopened yet: it still appends to the renamed file.
    append(&dir.path().join("app.log.1"), "4\n");
    append(&live, "5\n");
    let mut got = drain(&mut t).0;
    got.sort();
    assert_eq!(got, ["3", "4", "5"]);
}

#[test]
fn copytruncate_rotation_loses_nothing_the_copy_holds_and_duplicates_nothing() {
    let dir = tempdir();
    let live = dir.path().join("app.log");
    let body: String = (0..40).map(|i| format!("line-{i:04}\n")).collect();
    append(&live, &body);
    let mut t = tracker(dir.path(), "app.log*", InitialPosition::StartOfFile, vec![]);
    assert_eq!(drain(&mut t).0.len(), 40);
    // Written, then rotated before the agent read it.
    append(&live, "unread-1\nunread-2\n");
    std::fs::copy(&live, dir.path().join("app.log.1")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&live)
        .and_then(|f| f.set_len(0))
        .unwrap_or_else(|e| panic!("{e}"));
    append(&live, "after\n");
    let mut got = drain(&mut t).0;
    got.sort();
    assert_eq!(got, ["after", "unread-1", "unread-2"]);
}

#[test]
fn a_checkpoint_resumes_the_same_file_and_a_recycled_inode_starts_over() {
    let dir = tempdir();
    let path = dir.path().join("a.log");
    append(&path, "1\n2\n3\n");
    let mut t = tracker(dir.path(), "a.log", InitialPosition::StartOfFile, vec![]);
    let (_, pieces) = drain(&mut t);
    let first = pieces
        .iter()
        .find(|p| matches!(p.piece, Piece::Record { .. }));
    let Some(first) = first else {
        panic!("no record")
    };
    let entry = Entry {
        flow: "f".into(),
        key: first.key,
        fingerprint: first.fingerprint,
        path: path.clone(),
        offset: 2,
        updated_ms: 0,
    };
    let mut resumed = tracker(
        dir.path(),
        "a.log",
        InitialPosition::EndOfFile,
        vec![entry.clone()],
    );
    assert_eq!(drain(&mut resumed).0, ["2", "3"]);
    let mut other = entry;
    other.fingerprint = Fingerprint::of(b"something else");
    let mut recycled = tracker(dir.path(), "a.log", InitialPosition::EndOfFile, vec![other]);
    assert_eq!(drain(&mut recycled).0, ["1", "2", "3"]);
}

#[test]
fn a_file_rotated_away_while_the_agent_was_down_is_finished_from_its_checkpoint() {
    let dir = tempdir();
    let live = dir.path().join("app.log");
    append(&live, "1\n2\n");
    let mut t = tracker(dir.path(), "app.log", InitialPosition::StartOfFile, vec![]);
    let (_, pieces) = drain(&mut t);
    let Some(last) = pieces.last() else {
        panic!("no pieces")
    };
    let entry = Entry {
        flow: "f".into(),
        key: last.key,
        fingerprint: last.fingerprint,
        path: live.clone(),
        offset: 4,
        updated_ms: 0,
    };
    drop(t);
    append(&live, "3\n");
    std::fs::rename(&live, dir.path().join("app.log.1")).unwrap_or_else(|e| panic!("{e}"));
    append(&live, "4\n");
    let mut t = tracker(
        dir.path(),
        "app.log",
        InitialPosition::EndOfFile,
        vec![entry],
    );
    let mut got = drain(&mut t).0;
    got.sort();
    assert_eq!(got, ["3", "4"]);
}

#[test]
fn globs_match_file_names_like_the_shell() {
    let m = |g: &str, n: &str| Regex::new(&glob_to_regex(g)).is_ok_and(|r| r.is_match(n));
    assert!(m("*.log", "app.log"));
    assert!(!m("*.log", "app.log.1"));
    assert!(m("app.log*", "app.log.1"));
    assert!(m("a?c", "abc"));
    assert!(m("[ab]x", "bx") && !m("[!ab]x", "bx"));
    assert!(m("{a,b}.csv", "b.csv") && !m("{a,b}.csv", "c.csv"));
    assert!(m("a.b", "a.b") && !m("a.b", "axb"));
}
