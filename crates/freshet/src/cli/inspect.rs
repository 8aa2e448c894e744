// SPDX-License-Identifier: Apache-2.0
//! `freshet inspect PATH`: dump a segment or index file, or summarise a shard directory or a
//! whole data directory, without a server. Everything here only reads; decoding is done by
//! `freshet_log::inspect`, which reports torn or corrupt tails instead of repairing them.
//!
//! Data directory layout (see `docs/FORMAT.md`):
//! `<data>/streams/<stream>.<incarnation>/<shardId-...>/<first_offset:020>.log` plus `.idx`,
//! and `<data>/meta.redb`. A directory is summarised one segment at a time, so memory stays
//! bounded by the largest segment.

use std::fs;
use std::io::{BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::Args;
use freshet_log::format::parse_file_name;
use freshet_log::inspect::{BatchDump, IndexDump, SegmentDump, dump_index, dump_segment};

/// How deep a directory walk goes looking for shard directories.
const MAX_WALK_DEPTH: usize = 8;

/// `freshet inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A segment (`.log`) or index (`.idx`) file, a shard directory, or a data directory.
    pub path: PathBuf,
    /// Also print every record of a segment file.
    #[arg(long)]
    pub records: bool,
    /// Print record data in base64 instead of (escaped) text.
    #[arg(long, requires = "records")]
    pub base64: bool,
}

/// Runs `freshet inspect`.
pub fn run(args: &InspectArgs) -> anyhow::Result<ExitCode> {
    let meta = fs::metadata(&args.path)
        .with_context(|| format!("cannot inspect {}", args.path.display()))?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let result = if meta.is_dir() {
        inspect_dir(&mut out, &args.path)
    } else if has_ext(&args.path, "idx") {
        let dump = dump_index(&args.path)?;
        print_index(&mut out, &dump).map_err(anyhow::Error::from)
    } else {
        let dump = dump_segment(&args.path)?;
        print_segment(&mut out, &dump, args).map_err(anyhow::Error::from)
    };
    let result = result.and_then(|()| out.flush().map_err(anyhow::Error::from));
    match result {
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == ErrorKind::BrokenPipe) =>
        {
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => Err(err),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e == ext)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn arrival(ms: i64) -> String {
    DateTime::from_millis(ms)
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| format!("{ms} ms"))
}

/// Whether a batch lies before the segment's bad tail (and so would survive recovery).
fn is_valid(seg: &SegmentDump, b: &BatchDump) -> bool {
    seg.tail.as_ref().is_none_or(|t| b.position < t.position)
}

fn print_segment(
    out: &mut impl Write,
    seg: &SegmentDump,
    args: &InspectArgs,
) -> std::io::Result<()> {
    writeln!(
        out,
        "segment {} ({} bytes)",
        seg.path.display(),
        seg.file_len
    )?;
    match &seg.header {
        Some(h) => {
            let status = match &h.problem {
                Some(p) => format!("INVALID: {p}"),
                None => "ok".to_owned(),
            };
            writeln!(
                out,
                "  header: magic {:?}, version {}, base offset {}: {status}",
                String::from_utf8_lossy(&h.magic),
                h.version,
                h.base_offset
            )?;
        }
        None => writeln!(out, "  header: missing")?,
    }
    let (mut batches, mut records) = (0u64, 0u64);
    for b in &seg.batches {
        let valid = is_valid(seg, b);
        if valid {
            batches += 1;
            records += u64::from(b.record_count);
        }
        writeln!(
            out,
            "  batch @{} offsets {}..{} ({} records) arrival {} length {} crc {}{}",
            b.position,
            b.base_offset,
            b.base_offset.saturating_add(u64::from(b.record_count)),
            b.record_count,
            arrival(b.arrival_ms),
            b.length,
            if b.crc_ok { "ok" } else { "BAD" },
            if valid { "" } else { " (invalid)" },
        )?;
        if args.records {
            for r in &b.records {
                let data: &[u8] = r.data.as_ref();
                let shown = if args.base64 {
                    BASE64.encode(data)
                } else {
                    escape_controls(&String::from_utf8_lossy(data))
                };
                writeln!(
                    out,
                    "    {} key={:?} {} bytes: {shown}",
                    r.offset,
                    r.partition_key,
                    data.len()
                )?;
            }
        }
    }
    match &seg.tail {
        Some(t) => writeln!(
            out,
            "  bad tail at byte {} ({} bytes, recovery would truncate): {}",
            t.position, t.bytes, t.reason
        )?,
        None => writeln!(out, "  clean end")?,
    }
    writeln!(out, "  total: {batches} valid batches, {records} records")
}

/// Keeps a record on one line: control characters are escaped, everything else is shown as is.
fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn print_index(out: &mut impl Write, idx: &IndexDump) -> std::io::Result<()> {
    writeln!(out, "index {}", idx.path.display())?;
    match &idx.contents {
        Err(reason) => writeln!(
            out,
            "  INVALID: {reason} (recovery rebuilds it from the segment)"
        ),
        Ok(f) => {
            writeln!(
                out,
                "  base offset {}, next offset {}, log length {}, last arrival {}",
                f.base_offset,
                f.next_offset,
                f.log_len,
                f.last_arrival_ms
                    .map(arrival)
                    .unwrap_or_else(|| "none".to_owned())
            )?;
            for e in &f.entries {
                writeln!(
                    out,
                    "  offset {} @{} arrival {}",
                    f.base_offset.saturating_add(u64::from(e.rel_offset)),
                    e.position,
                    arrival(e.arrival_ms)
                )?;
            }
            writeln!(out, "  {} entries", f.entries.len())
        }
    }
}

/// Totals for one shard directory.
#[derive(Debug, Default)]
struct ShardSummary {
    segments: usize,
    records: u64,
    bytes: u64,
    first_offset: Option<u64>,
    next_offset: Option<u64>,
    first_arrival: Option<i64>,
    last_arrival: Option<i64>,
    problems: Vec<String>,
}

fn summarise_shard(dir: &Path) -> anyhow::Result<ShardSummary> {
    let mut s = ShardSummary::default();
    for path in sorted_entries(dir)? {
        let name = file_name(&path);
        if parse_file_name(&name, "log").is_some() {
            let seg = dump_segment(&path)?;
            s.segments += 1;
            s.bytes += seg.file_len;
            if let Some(h) = &seg.header {
                s.first_offset.get_or_insert(h.base_offset);
                if let Some(p) = &h.problem {
                    s.problems.push(format!("{name}: header: {p}"));
                }
            }
            for b in seg.batches.iter().filter(|b| is_valid(&seg, b)) {
                s.records += u64::from(b.record_count);
                s.next_offset = Some(b.base_offset.saturating_add(u64::from(b.record_count)));
                s.first_arrival.get_or_insert(b.arrival_ms);
                s.last_arrival = Some(b.arrival_ms);
            }
            if let Some(t) = &seg.tail {
                s.problems.push(format!(
                    "{name}: bad tail at byte {} ({} bytes): {}",
                    t.position, t.bytes, t.reason
                ));
            }
        } else if parse_file_name(&name, "idx").is_some() {
            if let Err(reason) = dump_index(&path)?.contents {
                s.problems.push(format!("{name}: {reason}"));
            }
        } else {
            s.problems.push(format!("{name}: unexpected file"));
        }
    }
    Ok(s)
}

fn print_shard(out: &mut impl Write, label: &str, s: &ShardSummary) -> std::io::Result<()> {
    let offsets = match (s.first_offset, s.next_offset) {
        (Some(first), Some(next)) => format!("offsets {first}..{next}"),
        (Some(first), None) => format!("empty from offset {first}"),
        _ => "no offsets".to_owned(),
    };
    write!(
        out,
        "  {label}: {} segments, {} records, {} bytes, {offsets}",
        s.segments, s.records, s.bytes
    )?;
    if let (Some(a), Some(b)) = (s.first_arrival, s.last_arrival) {
        write!(out, ", arrivals {} .. {}", arrival(a), arrival(b))?;
    }
    writeln!(out)?;
    for p in &s.problems {
        writeln!(out, "    problem: {p}")?;
    }
    Ok(())
}

fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

/// Whether a directory directly holds segment or index files.
fn is_shard_dir(dir: &Path) -> anyhow::Result<bool> {
    Ok(sorted_entries(dir)?.iter().any(|p| {
        let name = file_name(p);
        parse_file_name(&name, "log").is_some() || parse_file_name(&name, "idx").is_some()
    }))
}

/// Every shard directory under `dir` (itself included), in path order. Symlinks are not
/// followed.
fn find_shard_dirs(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if is_shard_dir(dir)? {
        found.push(dir.to_owned());
        return Ok(());
    }
    if depth >= MAX_WALK_DEPTH {
        return Ok(());
    }
    for path in sorted_entries(dir)? {
        let meta = fs::symlink_metadata(&path)
            .with_context(|| format!("cannot stat {}", path.display()))?;
        if meta.is_dir() {
            find_shard_dirs(&path, depth + 1, found)?;
        }
    }
    Ok(())
}

fn inspect_dir(out: &mut impl Write, dir: &Path) -> anyhow::Result<()> {
    let meta_db = dir.join("meta.redb");
    if let Ok(m) = fs::metadata(&meta_db) {
        writeln!(
            out,
            "data dir {} (meta.redb: {} bytes)",
            dir.display(),
            m.len()
        )?;
    } else {
        writeln!(out, "{}", dir.display())?;
    }
    let mut shards = Vec::new();
    find_shard_dirs(dir, 0, &mut shards)?;
    if shards.is_empty() {
        writeln!(out, "  no segment files found")?;
        return Ok(());
    }
    let mut current_parent: Option<PathBuf> = None;
    let (mut total_records, mut total_bytes) = (0u64, 0u64);
    for shard in &shards {
        let summary = summarise_shard(shard)?;
        total_records += summary.records;
        total_bytes += summary.bytes;
        let parent = shard.parent().map(Path::to_path_buf);
        if shard != dir && parent != current_parent {
            let label = parent
                .as_deref()
                .and_then(|p| p.strip_prefix(dir).ok())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            writeln!(out, "{label}")?;
            current_parent = parent;
        }
        print_shard(out, &file_name(shard), &summary)?;
    }
    writeln!(
        out,
        // Not only Kinesis shards: queues, log groups and Lambda's async queue are logs too.
        "total: {} logs, {total_records} records, {total_bytes} bytes",
        shards.len()
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_text_escapes_only_control_characters() {
        assert_eq!(escape_controls("{\"a\":1}\n\t"), "{\"a\":1}\\n\\t");
    }
}
