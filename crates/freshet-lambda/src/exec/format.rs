// SPDX-License-Identifier: Apache-2.0
//! The texts AWS Lambda writes, byte for byte: platform log lines (START / END / REPORT, the
//! timeout and runtime-exit lines), the error documents an invocation answers with when the
//! function did not answer itself, and log stream names. Pure functions, no I/O.
//!
//! Every log event message ends with `\n`, as Lambda's do in CloudWatch Logs.

use std::time::{Duration, SystemTime};

/// The largest payload the Runtime API accepts from a runtime: 6 MiB plus 100 bytes, as the
/// Runtime Interface Emulator allows (the 100 bytes leave room for JSON framing).
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024 + 100;

/// The largest invocation payload (synchronous Invoke): 6 MB.
pub const MAX_REQUEST_BYTES: usize = 6 * 1024 * 1024;

/// The largest CloudWatch Logs event message: 256 KiB less the 26 bytes of per-event overhead
/// PutLogEvents counts.
pub const MAX_EVENT_BYTES: usize = 256 * 1024 - 26;

/// How much of an invocation's log `LogType: Tail` returns.
pub const TAIL_BYTES: usize = 4096;

/// `START RequestId: <id> Version: <version>`.
pub fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}\n")
}

/// `END RequestId: <id>`.
pub fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}\n")
}

/// What a REPORT line reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// How long the invocation ran.
    pub duration: Duration,
    /// The function's configured memory.
    pub memory_mb: u32,
    /// The environment's peak resident memory, in MB.
    pub max_memory_mb: u64,
    /// Set on the first invocation of an environment.
    pub init_duration: Option<Duration>,
}

/// `REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
/// Max Memory Used: 40 MB\t[Init Duration: 150.12 ms\t]`: tab separated, with a trailing tab.
pub fn report_line(request_id: &str, r: &Report) -> String {
    let mut s = format!(
        "REPORT RequestId: {request_id}\tDuration: {} ms\tBilled Duration: {} ms\t\
         Memory Size: {} MB\tMax Memory Used: {} MB\t",
        millis_2dp(r.duration),
        billed_ms(r.duration),
        r.memory_mb,
        r.max_memory_mb,
    );
    if let Some(init) = r.init_duration {
        s.push_str(&format!("Init Duration: {} ms\t", millis_2dp(init)));
    }
    s.push('\n');
    s
}

/// Milliseconds with two decimals (`201.67`), as REPORT prints them.
pub fn millis_2dp(d: Duration) -> String {
    let hundredths = d.as_micros() / 10;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Billed duration: the duration rounded up to the millisecond (1 ms granularity since
/// December 2020), at least 1 ms.
pub fn billed_ms(d: Duration) -> u128 {
    let micros = d.as_micros();
    micros.div_ceil(1000).max(1)
}

/// Seconds with two decimals (`3.00`), as the timeout message prints the configured timeout.
pub fn seconds_2dp(d: Duration) -> String {
    let hundredths = d.as_millis() / 10;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// RFC 3339 UTC with milliseconds (`2024-01-02T03:04:05.678Z`).
pub fn rfc3339_millis(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The log line Lambda writes when an invocation times out:
/// `<RFC 3339 time> <request id> Task timed out after 3.00 seconds`, followed by an empty
/// line (the event ends with two newlines, as Lambda's does).
pub fn timeout_log_line(now: SystemTime, request_id: &str, timeout: Duration) -> String {
    format!(
        "{} {request_id} Task timed out after {} seconds\n\n",
        rfc3339_millis(now),
        seconds_2dp(timeout)
    )
}

/// The error document a timed-out invocation answers with (current Lambda:
/// `Sandbox.Timedout`, the message naming the request).
pub fn timeout_payload(request_id: &str, timeout: Duration) -> String {
    error_doc(
        "Sandbox.Timedout",
        &format!(
            "RequestId: {request_id} Error: Task timed out after {} seconds",
            seconds_2dp(timeout)
        ),
    )
}

/// How a runtime process ended, as Go's `os.ProcessState` prints it (Lambda's wording).
pub fn exit_reason(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (Some(0), _) => "Runtime exited without providing a reason".to_owned(),
        (Some(c), _) => format!("Runtime exited with error: exit status {c}"),
        (None, Some(s)) => format!("Runtime exited with error: signal: {}", signal_name(s)),
        (None, None) => "Runtime exited without providing a reason".to_owned(),
    }
}

fn signal_name(sig: i32) -> String {
    match sig {
        1 => "hangup".to_owned(),
        2 => "interrupt".to_owned(),
        3 => "quit".to_owned(),
        4 => "illegal instruction".to_owned(),
        6 => "aborted".to_owned(),
        7 => "bus error".to_owned(),
        8 => "floating point exception".to_owned(),
        9 => "killed".to_owned(),
        11 => "segmentation fault".to_owned(),
        13 => "broken pipe".to_owned(),
        15 => "terminated".to_owned(),
        n => format!("signal {n}"),
    }
}

/// The log event Lambda writes when the runtime dies during an invocation:
/// `RequestId: <id> Error: <reason>` and `Runtime.ExitError` on the next line.
pub fn exit_log_line(request_id: &str, reason: &str) -> String {
    format!("RequestId: {request_id} Error: {reason}\nRuntime.ExitError\n")
}

/// The error document of an invocation whose runtime died.
pub fn exit_payload(request_id: &str, reason: &str) -> String {
    error_doc(
        "Runtime.ExitError",
        &format!("RequestId: {request_id} Error: {reason}"),
    )
}

/// The error document of an invocation whose response was over the limit.
pub fn response_too_large_payload() -> String {
    error_doc(
        "Function.ResponseSizeTooLarge",
        &format!(
            "Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
        ),
    )
}

/// The error document of a `provided.*` function without an executable `bootstrap`.
pub fn invalid_entrypoint_payload(request_id: &str, code_dir: &str) -> String {
    error_doc(
        "Runtime.InvalidEntrypoint",
        &format!(
            "RequestId: {request_id} Error: Couldn't find valid bootstrap(s): [{code_dir}/bootstrap /opt/bootstrap]"
        ),
    )
}

/// `{"errorType":..,"errorMessage":..}`, in that order, as Lambda writes platform errors.
fn error_doc(error_type: &str, message: &str) -> String {
    format!(
        "{{\"errorType\":{},\"errorMessage\":{}}}",
        json_string(error_type),
        json_string(message)
    )
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// The log stream of an environment: `YYYY/MM/DD/[<version>]<32 lower-case hex>`, dated by
/// the environment's start (UTC).
pub fn log_stream_name(started: SystemTime, version: &str, id: u128) -> String {
    let day = rfc3339_millis(started);
    let date = day.get(..10).unwrap_or("1970-01-01").replace('-', "/");
    format!("{date}/[{version}]{id:032x}")
}

/// Cuts `s` to at most `max` bytes on a character boundary.
pub fn truncate_utf8(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
}

/// The last `max` bytes of `s`, starting on a character boundary.
pub fn tail_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    s.get(start..).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn report_line_matches_lambdas_tab_separated_format() {
        let r = Report {
            duration: Duration::from_micros(1_234),
            memory_mb: 128,
            max_memory_mb: 40,
            init_duration: Some(Duration::from_micros(150_123)),
        };
        assert_eq!(
            report_line("abc", &r),
            "REPORT RequestId: abc\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 150.12 ms\t\n"
        );
        let warm = Report {
            init_duration: None,
            ..r
        };
        assert_eq!(
            report_line("abc", &warm),
            "REPORT RequestId: abc\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n"
        );
    }

    #[test]
    fn start_and_end_lines_name_the_request_and_version() {
        assert_eq!(
            start_line("r1", "$LATEST"),
            "START RequestId: r1 Version: $LATEST\n"
        );
        assert_eq!(end_line("r1"), "END RequestId: r1\n");
    }

    #[test]
    fn timeout_texts_name_the_configured_timeout() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(
            timeout_log_line(t, "r1", Duration::from_secs(3)),
            "2023-11-14T22:13:20.123Z r1 Task timed out after 3.00 seconds\n\n"
        );
        assert_eq!(
            timeout_payload("r1", Duration::from_secs(1)),
            r#"{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: r1 Error: Task timed out after 1.00 seconds"}"#
        );
    }

    #[test]
    fn exit_texts_read_like_gos_process_state() {
        assert_eq!(
            exit_reason(Some(1), None),
            "Runtime exited with error: exit status 1"
        );
        assert_eq!(
            exit_reason(None, Some(9)),
            "Runtime exited with error: signal: killed"
        );
        assert_eq!(
            exit_reason(Some(0), None),
            "Runtime exited without providing a reason"
        );
        assert_eq!(
            exit_payload("r1", &exit_reason(Some(1), None)),
            r#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r1 Error: Runtime exited with error: exit status 1"}"#
        );
        assert_eq!(
            exit_log_line("r1", "Runtime exited with error: exit status 1"),
            "RequestId: r1 Error: Runtime exited with error: exit status 1\nRuntime.ExitError\n"
        );
    }

    #[test]
    fn log_stream_names_are_dated_versioned_and_32_hex() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_639_699_200);
        assert_eq!(
            log_stream_name(t, "$LATEST", 0x6922e90439514d8195e455360917eaa9),
            "2021/12/17/[$LATEST]6922e90439514d8195e455360917eaa9"
        );
        assert_eq!(
            log_stream_name(t, "3", 1),
            "2021/12/17/[3]00000000000000000000000000000001"
        );
    }

    proptest! {
        #[test]
        fn billed_duration_is_the_duration_rounded_up_to_a_millisecond(us in 0u64..10_000_000_000) {
            let d = Duration::from_micros(us);
            let billed = billed_ms(d);
            prop_assert!(billed >= 1);
            prop_assert!(u128::from(us) <= billed * 1000);
            prop_assert!(billed * 1000 < u128::from(us) + 1000 || us == 0);
        }

        #[test]
        fn millis_with_two_decimals_parse_back_to_the_duration(us in 0u64..10_000_000_000) {
            let s = millis_2dp(Duration::from_micros(us));
            let (whole, frac) = s.split_once('.').unwrap();
            prop_assert_eq!(frac.len(), 2);
            let hundredths: u64 = whole.parse::<u64>().unwrap() * 100 + frac.parse::<u64>().unwrap();
            prop_assert_eq!(hundredths, us / 10);
        }

        #[test]
        fn truncation_and_tails_stay_on_char_boundaries(s in "\\PC{0,64}", max in 0usize..80) {
            let mut t = s.clone();
            truncate_utf8(&mut t, max);
            prop_assert!(t.len() <= max);
            prop_assert!(s.starts_with(&t));
            let tail = tail_utf8(&s, max);
            prop_assert!(tail.len() <= max);
            prop_assert!(s.ends_with(tail));
        }
    }
}
