// SPDX-License-Identifier: Apache-2.0
//! Every example of AWS's filter-pattern documentation, quoted, plus the corner cases and
//! property tests. "Guide" is the CloudWatch Logs User Guide page FilterAndPatternSyntax
//! (awsdocs/amazon-cloudwatch-logs-user-guide: the older "Filter and Pattern Syntax" and the
//! newer "Filter and pattern syntax" versions, and the current regex section).

use proptest::prelude::*;

use super::*;

fn pattern(p: &str) -> FilterPattern {
    match FilterPattern::parse(p) {
        Ok(parsed) => parsed,
        Err(err) => panic!("{p:?} should parse: {err}"),
    }
}

/// Asserts which of `events` the pattern matches.
fn assert_matches(p: &str, events: &[&str], expected: &[bool]) {
    let parsed = pattern(p);
    for (event, want) in events.iter().zip(expected) {
        assert_eq!(parsed.is_match(event), *want, "pattern {p:?} on {event:?}");
        assert_eq!(
            parsed.matches(event).is_some(),
            *want,
            "matches() disagrees: {p:?} {event:?}"
        );
    }
}

// ---- Unstructured terms --------------------------------------------------------------------

const FOUR_ERRORS: [&str; 4] = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
];

#[test]
fn guide_single_term_error_matches_every_error_line() {
    // "ERROR" matches "[ERROR 400] BAD REQUEST", "[ERROR 401] UNAUTHORIZED REQUEST", ...
    assert_matches("ERROR", &FOUR_ERRORS, &[true, true, true, true]);
    // Older guide: "ERROR" matches "[ERROR] A fatal exception has occurred" and
    // "Exiting with ERRORCODE: -1"; terms are case sensitive.
    assert_matches(
        "ERROR",
        &[
            "[ERROR] A fatal exception has occurred",
            "Exiting with ERRORCODE: -1",
            "error",
        ],
        &[true, true, false],
    );
}

#[test]
fn guide_multiple_terms_must_all_occur() {
    // "ERROR ARGUMENTS" returns the 419 and 420 lines only.
    assert_matches("ERROR ARGUMENTS", &FOUR_ERRORS, &[false, false, true, true]);
    // Older guide: "ERROR Exception" matches "[ERROR] Caught IllegalArgumentException" and
    // "[ERROR] Unhandled Exception"; "Failed to process the request" matches both lines below.
    assert_matches(
        "ERROR Exception",
        &[
            "[ERROR] Caught IllegalArgumentException",
            "[ERROR] Unhandled Exception",
            "Exception",
        ],
        &[true, true, false],
    );
    assert_matches(
        "Failed to process the request",
        &[
            "[WARN] Failed to process the request",
            "[ERROR] Unable to continue: Failed to process the request",
        ],
        &[true, true],
    );
}

#[test]
fn guide_question_mark_terms_match_any() {
    // "?ERROR ?ARGUMENTS" matches all four lines.
    assert_matches("?ERROR ?ARGUMENTS", &FOUR_ERRORS, &[true, true, true, true]);
    // Older guide, events "ERROR WARN message", "ERROR message", "WARN message": `ERROR`
    // matches 1 and 2, `?ERROR ?WARN` all three, `ERROR WARN` only 1, `ERROR -WARN` only 2.
    let events = ["ERROR WARN message", "ERROR message", "WARN message"];
    assert_matches("ERROR", &events, &[true, true, false]);
    assert_matches("?ERROR ?WARN", &events, &[true, true, true]);
    assert_matches("ERROR WARN", &events, &[true, false, false]);
    assert_matches("ERROR -WARN", &events, &[false, true, false]);
}

#[test]
fn question_mark_terms_are_ignored_next_to_plain_terms() {
    // Observed on AWS (radek-pysny.github.io, 2025-03-30).
    assert_matches("ERROR ?WARN", &["ERROR only", "WARN only"], &[true, false]);
    // Same source: `?"clean up" ?xyz`.
    assert_matches(
        r#"?"clean up" ?xyz"#,
        &[
            "map clean up",
            "xyz",
            "xyz will do clean up",
            "abc xy yz xz",
            "map is cleaned up",
        ],
        &[true, true, true, false, false],
    );
}

#[test]
fn guide_exact_phrase_matches_only_the_whole_phrase() {
    // "\"INTERNAL SERVER ERROR\"" returns "[ERROR 500] INTERNAL SERVER ERROR".
    assert_matches(
        r#""INTERNAL SERVER ERROR""#,
        &[
            "[ERROR 500] INTERNAL SERVER ERROR",
            "[ERROR 500] INTERNAL SERVER",
            "SERVER INTERNAL ERROR",
        ],
        &[true, false, false],
    );
    // Same source as above: `"ERROR][grpc"` needs the characters adjacent.
    assert_matches(
        r#""ERROR][grpc""#,
        &["2025-03-28 [ERROR][grpc] failed", "[ERROR] [grpc]"],
        &[true, false],
    );
}

#[test]
fn guide_minus_excludes_a_term() {
    // "ERROR -ARGUMENTS" returns the 400 and 401 lines.
    assert_matches(
        "ERROR -ARGUMENTS",
        &FOUR_ERRORS,
        &[true, true, false, false],
    );
    // Older guide: with "ERROR" - "Exiting", "Exiting with ERRORCODE: -1" is excluded.
    assert_matches(
        r#""ERROR" - "Exiting""#,
        &[
            "[ERROR] A fatal exception has occurred",
            "Exiting with ERRORCODE: -1",
        ],
        &[true, false],
    );
}

#[test]
fn guide_match_everything() {
    // Current guide: the filter pattern `" "` returns all log events; older guide: `""`.
    for p in [r#"" ""#, r#""""#, "", "   "] {
        assert_eq!(pattern(p).kind(), PatternKind::MatchAll, "{p:?}");
        assert_matches(p, &["anything", ""], &[true, true]);
    }
}

#[test]
fn stars_in_unstructured_terms_are_literal() {
    assert_matches("ERR*", &["ERROR", "ERR* here"], &[false, true]);
}

#[test]
fn quotes_escape_with_backslash_as_aws_cdk_writes_them() {
    assert_matches(
        r#""say \"hi\" \\o/""#,
        &[r#"they say "hi" \o/"#, "say hi"],
        &[true, false],
    );
}

#[test]
fn unterminated_or_misplaced_quotes_are_errors() {
    assert!(matches!(
        FilterPattern::parse("\"open"),
        Err(PatternError::Expected { .. })
    ));
    assert!(matches!(
        FilterPattern::parse("ab\"c\""),
        Err(PatternError::Invalid { .. })
    ));
    assert!(FilterPattern::parse("ERROR -").is_err());
}

// ---- Regular expressions --------------------------------------------------------------------

#[test]
fn guide_regex_authorized_matches_both_lines() {
    // "%AUTHORIZED%" returns "[ERROR 401] UNAUTHORIZED REQUEST" and
    // "[SUCCESS 200] AUTHORIZED REQUEST".
    assert_matches(
        "%AUTHORIZED%",
        &[
            "[ERROR 401] UNAUTHORIZED REQUEST",
            "[SUCCESS 200] AUTHORIZED REQUEST",
            "authorized",
        ],
        &[true, true, false],
    );
}

#[test]
fn guide_regex_examples() {
    // %\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}% matches an IP address; %[Ee]rror|[Ff]ail% matches
    // "Error"/"error" and "Fail"/"fail".
    assert_matches(
        r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%",
        &["from 10.0.12.1 ok", "from host"],
        &[true, false],
    );
    assert_matches(
        "%[Ee]rror|[Ff]ail%",
        &["an error", "Failed", "ok"],
        &[true, true, false],
    );
    // Operator examples: %^[hc]at% (start), %[hc]at$% (end), %colou?r%, %[abc]%, %[a-z]%,
    // %[abcx-z]%, %a{3,5}%.
    assert_matches("%^[hc]at%", &["hat trick", "that"], &[true, false]);
    assert_matches("%[hc]at$%", &["the cat", "cats"], &[true, false]);
    assert_matches(
        "%colou?r%",
        &["color", "colour", "colr"],
        &[true, true, false],
    );
    assert_matches("%[abc]%", &["xbx", "xyz"], &[true, false]);
    assert_matches("%[a-z]%", &["ABC1d", "ABC1"], &[true, false]);
    assert_matches("%[abcx-z]%", &["Y y", "Q"], &[true, false]);
    assert_matches("%a{3,5}%", &["baaab", "baab"], &[true, false]);
    // The guide writes the operator as `{m, n}`, with a space.
    assert_matches("%a{3, 5}%", &["baaab", "baab"], &[true, false]);
}

#[test]
fn guide_regex_refuses_unsupported_characters() {
    // "%something!% would be rejected since '!' is not supported"; "The ( and ) operators are
    // not supported"; "Multi-byte characters are not supported".
    for p in ["%something!%", "%(a|b)%", "%grüße%"] {
        assert!(
            matches!(
                FilterPattern::parse(p),
                Err(PatternError::RegexCharacter { .. })
            ),
            "{p}"
        );
    }
    // An escape makes a special character literal.
    assert_matches(
        r"%10\.10\.0\.1%",
        &["to 10.10.0.1", "to 10a10b0c1"],
        &[true, false],
    );
    assert_matches(r"%50\%%", &["50% done", "50 done"], &[true, false]);
}

#[test]
fn regex_with_spaces_is_accepted_as_aws_does() {
    // aws/aws-cdk#36901 deploys this metric filter pattern.
    assert_matches(
        r"%Task timed out after|^REPORT\s.+\sStatus: timeout%",
        &[
            "Task timed out after 3.00 seconds",
            "REPORT RequestId: x Status: timeout",
            "REPORT ok",
        ],
        &[true, true, false],
    );
}

#[test]
fn at_most_two_regexes_per_pattern() {
    assert!(FilterPattern::parse("%a% %b%").is_ok());
    assert_eq!(
        FilterPattern::parse("%a% %b% %c%"),
        Err(PatternError::TooManyRegexes { count: 3 })
    );
    assert_eq!(
        FilterPattern::parse("{ $.a = %x% || $.b = %y% || $.c = %z% }"),
        Err(PatternError::TooManyRegexes { count: 3 })
    );
}

#[test]
fn empty_or_unclosed_regexes_are_errors() {
    assert!(FilterPattern::parse("%%").is_err());
    assert!(FilterPattern::parse("%abc").is_err());
    assert!(matches!(
        FilterPattern::parse("%a{%"),
        Err(PatternError::Regex { .. })
    ));
}

// ---- JSON -----------------------------------------------------------------------------------

const TRAIL: &str = r#"{"eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": null, "ThisFlag": true}"#;

#[test]
fn guide_json_examples_match_the_trail_event() {
    for p in [
        r#"{ $.eventType = "UpdateTrail" }"#,
        "{ $.sourceIPAddress != 123.123.* }",
        r#"{ $.arrayKey[0] = "value" }"#,
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
    ] {
        assert_matches(p, &[TRAIL], &[true]);
    }
    // "This also works for boolean filters which check for FALSE value."
    assert_matches("{ $.ThisFlag IS FALSE }", &[TRAIL], &[false]);
    // "If arrayKey is not an array this will be false."
    assert_matches(r#"{ $.eventType[0] = "value" }"#, &[TRAIL], &[false]);
}

#[test]
fn guide_json_or_examples() {
    // {$.foo = bar} matches {"foo": "bar"}, {$.foo = baz } matches {"foo": "baz"}, and
    // {$.foo = bar || $.foo = baz } both.
    let events = [r#"{"foo": "bar"}"#, r#"{"foo": "baz"}"#];
    assert_matches("{$.foo = bar}", &events, &[true, false]);
    assert_matches("{$.foo = baz }", &events, &[false, true]);
    assert_matches("{$.foo = bar || $.foo = baz }", &events, &[true, true]);
}

const USERS: &str = r#"{"user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}"#;

#[test]
fn guide_compound_expressions_follow_the_documented_precedence() {
    // "() > && > ||"; the four examples and whether they match.
    assert_matches(
        r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
        &[USERS],
        &[true],
    );
    assert_matches(
        r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
        &[USERS],
        &[false],
    );
    assert_matches(
        r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }"#,
        &[USERS],
        &[true],
    );
    assert_matches(
        r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }"#,
        &[USERS],
        &[false],
    );
    // Newer guide's spelling of the same two.
    assert_matches(
        r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
        &[USERS],
        &[true],
    );
    assert_matches("{ $.coordinates[2][1] = 8 }", &[USERS], &[true]);
}

#[test]
fn guide_selectors_on_arrays_or_objects_match_neither_way() {
    // "both {$.users = 1} and {$.users != 1} will fail to match ... where users is an array"
    let event = r#"{"users": [1, 2, 3]}"#;
    assert_matches("{$.users = 1}", &[event], &[false]);
    assert_matches("{$.users != 1}", &[event], &[false]);
}

#[test]
fn guide_numeric_comparisons() {
    let cases: [(&str, &str); 14] = [
        ("{ $.latency >= 500 }", r#"{"latency": 500}"#),
        ("{ $.numbers[0] < 10e3 }", r#"{"numbers": [9999.5]}"#),
        ("{ $.numbers[0] < 10e-3 }", r#"{"numbers": [0.001]}"#),
        (
            "{ $.processes[4].averageRuntime <= 55.5 }",
            r#"{"processes": [0, 0, 0, 0, {"averageRuntime": 55.5}]}"#,
        ),
        ("{ $.errorCode = 400 }", r#"{"errorCode": 400}"#),
        ("{ $.errorCode != 500 }", r#"{"errorCode": 400}"#),
        ("{ $.latency > +1000 }", r#"{"latency": 1000.5}"#),
        ("{ $.bandwidth > 75 }", r#"{"bandwidth": 76}"#),
        ("{ $.latency < 50 }", r#"{"latency": -3}"#),
        ("{ $.refreshRate >= 60 }", r#"{"refreshRate": 6e1}"#),
        ("{ $.responseTime <= 5 }", r#"{"responseTime": 5}"#),
        ("{ $.errorCode = 400}", r#"{"errorCode": 400.0}"#),
        ("{ $.number[0] = 1e-3 }", r#"{"number": [0.001]}"#),
        ("{ $.number[0] != 1e+3 }", r#"{"number": [999]}"#),
    ];
    for (p, event) in cases {
        assert_matches(p, &[event], &[true]);
    }
    assert_matches("{ $.latency >= 500 }", &[r#"{"latency": 499}"#], &[false]);
}

#[test]
fn numbers_in_json_strings_compare_numerically() {
    assert_matches(
        "{ $.status = 401 }",
        &[r#"{"status": "401"}"#, r#"{"status": "4010"}"#],
        &[true, false],
    );
    assert_matches(r#"{ $.status = "401" }"#, &[r#"{"status": 401}"#], &[true]);
    assert_matches(
        "{ $.errorCode != 500 }",
        &[r#"{"errorCode": "AccessDenied"}"#],
        &[true],
    );
}

#[test]
fn cis_benchmark_patterns_use_quoted_wildcards() {
    // The CIS AWS Foundations metric filter as aws-cdk users deploy it.
    let p = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;
    assert_matches(
        p,
        &[
            r#"{"errorCode": "Client.UnauthorizedOperation"}"#,
            r#"{"errorCode": "AccessDeniedException"}"#,
            r#"{"errorCode": "Throttling"}"#,
        ],
        &[true, true, false],
    );
    // aws-cdk's FilterPattern.exists renders `$.f = "*"`.
    assert_matches(
        r#"{ $.f = "*" }"#,
        &[r#"{"f": "x"}"#, r#"{"g": "x"}"#, r#"{"f": null}"#],
        &[true, false, false],
    );
}

#[test]
fn aws_cdk_compound_rendering_parses() {
    // FilterPattern.all(stringValue, any(booleanValue, numberValue)) as aws-cdk renders it.
    let p = r#"{ ($.component = "HttpServer") && (($.error IS TRUE) || ($.latency > 1000)) }"#;
    assert_matches(
        p,
        &[
            r#"{"component": "HttpServer", "error": true}"#,
            r#"{"component": "HttpServer", "error": false, "latency": 1001}"#,
            r#"{"component": "HttpServer", "error": false, "latency": 10}"#,
            r#"{"component": "Db", "error": true}"#,
        ],
        &[true, true, false, false],
    );
}

#[test]
fn json_regex_values_match_unquoted_and_quoted_is_literal() {
    // aws/aws-cdk#30451: `{ $.foo = %bar% }` matches {"foo":"bar"}; `{ $.foo = "%bar%" }` does not.
    assert_matches("{ $.foo = %bar% }", &[r#"{"foo":"bar"}"#], &[true]);
    assert_matches(r#"{ $.foo = "%bar%" }"#, &[r#"{"foo":"bar"}"#], &[false]);
    assert_matches(
        r"{ $.ip != %^10\.% }",
        &[r#"{"ip":"10.0.0.1"}"#, r#"{"ip":"11.0.0.1"}"#],
        &[false, true],
    );
}

#[test]
fn wildcard_selectors_look_at_every_element() {
    assert_matches(
        r#"{ $.users[*].email = "Jane.Doe@example.com" }"#,
        &[USERS],
        &[true],
    );
    assert_matches("{ $.user.* = 1 }", &[USERS], &[true]);
    assert!(FilterPattern::parse("{ $.a[*].b[*] = 1 }").is_err());
    assert_eq!(
        FilterPattern::parse("{ $.a.* = 1 && $.b.* = 1 && $.c.* = 1 && $.d.* = 1 }"),
        Err(PatternError::TooManyWildcards { count: 4 })
    );
}

#[test]
fn non_json_events_do_not_match_json_patterns() {
    assert_matches(
        "{ $.a NOT EXISTS }",
        &["plain text", "[1, 2]", "{broken", "{}"],
        &[false, false, false, true],
    );
}

#[test]
fn json_syntax_errors_say_where() {
    for (p, at) in [
        ("{ $.a = }", 9),
        ("{ $.a > abc }", 9),
        ("{ $.a = 1 ", 11),
        ("{ a = 1 }", 3),
        ("{ $.a IS MAYBE }", 15),
        ("{ $[0] = 1 }", 4),
        ("{ $.a == 1 }", 8),
        ("{ $.a = 1 } tail", 13),
    ] {
        let err = FilterPattern::parse(p).expect_err(p);
        let text = err.to_string();
        assert!(text.starts_with("Invalid filter pattern: "), "{p}: {text}");
        assert!(text.ends_with(&format!("at character {at}")), "{p}: {text}");
    }
}

// ---- Space-delimited --------------------------------------------------------------------------

const APACHE: [&str; 3] = [
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
];

#[test]
fn guide_space_delimited_field_lists() {
    for p in [
        "[ip, user, username, timestamp, request, status_code, bytes]",
        "[..., status_code, bytes]",
        "[ip, user, ..., status_code, bytes]",
        "[ip, user, ...]",
    ] {
        assert_matches(p, &APACHE, &[true, true, true]);
    }
    assert_matches("[ip, user, username]", &APACHE, &[false, false, false]);
}

#[test]
fn guide_space_delimited_conditions() {
    let base = "[ip, user, username, timestamp, request, ";
    assert_matches(
        &format!("{base}status_code, bytes > 1000]"),
        &APACHE,
        &[true, true, true],
    );
    assert_matches(
        &format!("{base}status_code, bytes > 5000]"),
        &APACHE,
        &[false, true, false],
    );
    assert_matches(
        &format!("{base}status_code = 200, bytes]"),
        &APACHE,
        &[true, false, true],
    );
    assert_matches(
        &format!("{base}status_code = 5*, bytes]"),
        &APACHE,
        &[false, true, false],
    );
    assert_matches(
        "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
        &[
            r#"1.2.3.4 - frank [t] "GET /index.html HTTP/1.0" 404 1534"#,
            APACHE[0],
        ],
        &[true, false],
    );
    assert_matches(
        &format!("{base}status_code = 403 || status_code = 404, bytes]"),
        &[
            r#"1.2.3.4 - f [t] "GET /" 404 1"#,
            r#"1.2.3.4 - f [t] "GET /" 403 1"#,
            APACHE[0],
        ],
        &[true, true, false],
    );
}

#[test]
fn guide_condition_naming_an_undeclared_field_never_holds() {
    // Older guide: `[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]`
    // has six entries and names `bytes`, which it never declares, so it cannot match a
    // seven-field event; we parse it and it matches nothing rather than refuse it.
    let p = "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]";
    assert_matches(
        p,
        &[r#"1.2.3.4 - f [t] "GET /" 404"#, APACHE[0]],
        &[false, false],
    );
}

#[test]
fn guide_extracted_values_name_fields_or_number_them() {
    // Older guide: `[..., request=*.html*, status_code=4*,]` on the event below extracts
    // $status_code, $request and $7, $4, $3, $2, $1 (the guide prints a different request path
    // than its own event holds).
    let event =
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
    let p = pattern("[..., request=*.html*, status_code=4*,]");
    let got = test_metric_filter(&p, &[event]);
    let expected: BTreeMap<String, String> = [
        ("$status_code", "404"),
        ("$request", "GET /index.html HTTP/1.0"),
        ("$7", "1534"),
        ("$4", "10/Oct/2000:13:25:15 -0700"),
        ("$3", "frank"),
        ("$2", "-"),
        ("$1", "127.0.0.1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event_number, 1);
    assert_eq!(got[0].extracted_values, expected);
}

#[test]
fn guide_newer_space_delimited_example_extracts_every_named_field() {
    let event =
        r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
    let p = pattern("[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]");
    let m = p.matches(event).expect("matches");
    let got = m.extracted_values();
    assert_eq!(got.get("$bytes").map(String::as_str), Some("1534"));
    assert_eq!(got.get("$user").map(String::as_str), Some("Prod"));
    assert_eq!(
        got.get("$timestamp").map(String::as_str),
        Some("10/Oct/2000:13:25:15 -0700")
    );
    assert_eq!(got.len(), 7);
    assert_matches(
        "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
        &[event],
        &[true],
    );
    // Dimensions: `[ip, server, username, timestamp, request, status_code, bytes > 1000]` with
    // "server": $server gives the dimension value "Prod".
    let p = pattern("[ip, server, username, timestamp, request, status_code, bytes > 1000]");
    let m = p.matches(event).expect("matches");
    assert_eq!(m.value("$server").as_deref(), Some("Prod"));
    assert_eq!(metric_value("$bytes", &m), Some(1534.0));
    assert_eq!(metric_value("$7", &m), Some(1534.0));
}

#[test]
fn guide_w1_w2_patterns_need_the_exact_field_count() {
    // Older guide, events "ERROR WARN message", "ERROR message", "WARN message":
    // [w1=ERROR, w2] matches 2; [w1=ERROR || w1=WARN, w2] matches 2 and 3. (It also claims
    // [w1!=ERROR&&w1!=WARN, w2] matches 1, which its own field-count rule rules out.)
    let events = ["ERROR WARN message", "ERROR message", "WARN message"];
    assert_matches("[w1=ERROR, w2]", &events, &[false, true, false]);
    assert_matches("[w1=ERROR || w1=WARN, w2]", &events, &[false, true, true]);
    assert_matches("[w1!=ERROR&&w1!=WARN, w2]", &events, &[false, false, false]);
    // Newer guide: [w1=ERROR || W1=WARNING, w2] and [w1!=ERROR && w1!=WARNING, w2].
    assert_matches(
        "[w1=ERROR || W1=WARNING, w2]",
        &["WARNING x", "INFO x"],
        &[true, false],
    );
    assert_matches(
        "[w1!=ERROR && w1!=WARNING, w2]",
        &["WARNING x", "INFO x"],
        &[false, true],
    );
}

#[test]
fn lambda_report_lines_split_on_tabs() {
    // A public metric filter: pattern "[entryType = REPORT, a, b, c, Duration, ...]" with
    // metric value "$Duration".
    let line = "REPORT RequestId: 5002d846-892a-4bfe-83bb-b0c32406c482\tDuration: 741.17 ms\tBilled Duration: 800 ms\tMemory Size: 128 MB\tMax Memory Used: 84 MB\t\n";
    let p = pattern("[entryType = REPORT, a, b, c, Duration, ...]");
    let m = p.matches(line).expect("matches");
    assert_eq!(metric_value("$Duration", &m), Some(741.17));
    let p = pattern("[entryType = REPORT, a, b, c, Duration, d, e, f, Billed, ...]");
    let m = p.matches(line).expect("matches");
    assert_eq!(metric_value("$Billed", &m), Some(800.0));
}

#[test]
fn space_delimited_regex_conditions() {
    let p = r"[..., request = %.*\.html%, status_code = %4[0-9]{2}%, bytes]";
    assert_matches(
        p,
        &[
            r#"a b "GET /index.html" 404 12"#,
            r#"a b "GET /index.html" 200 12"#,
        ],
        &[true, false],
    );
}

#[test]
fn space_delimited_errors() {
    assert!(FilterPattern::parse("[]").is_err());
    assert!(FilterPattern::parse("[a, ..., b, ...]").is_err());
    assert!(matches!(
        FilterPattern::parse("[a, a]"),
        Err(PatternError::DuplicateField { .. })
    ));
    assert!(FilterPattern::parse("[a b]").is_err());
    assert!(FilterPattern::parse("[a = 1 && b, c]").is_err());
    assert!(FilterPattern::parse("[a, b").is_err());
}

// ---- Metric values and TestMetricFilter ----------------------------------------------------

#[test]
fn guide_metric_value_from_json_latency() {
    // `{ $.latency = * } metricValue: $.latency` publishes 50 for the event below.
    let p = pattern("{ $.latency = * }");
    let event = r#"{"latency": 50, "requestType": "GET"}"#;
    let m = p.matches(event).expect("matches");
    assert_eq!(metric_value("$.latency", &m), Some(50.0));
    assert_eq!(metric_value("1", &m), Some(1.0));
    assert_eq!(metric_value("$.requestType", &m), None);
    assert_eq!(metric_value("$.missing", &m), None);
    assert!(p.matches(r#"{"requestType": "GET"}"#).is_none());
}

#[test]
fn guide_json_dimension_value() {
    // `{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }` with "eventType": $.eventType
    // gives the dimension value "UpdateTrail".
    let p = pattern(r#"{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }"#);
    let m = p.matches(TRAIL).expect("matches");
    assert_eq!(m.value("$.eventType").as_deref(), Some("UpdateTrail"));
    assert_eq!(m.value("$.objectList[1].id").as_deref(), Some("2"));
    assert!(m.extracted_values().is_empty());
    assert!(p.supports_dimensions());
    assert!(p.can_resolve("$.eventType"));
    assert!(!pattern("ERROR").supports_dimensions());
}

#[test]
fn cli_test_metric_filter_example() {
    // aws-cli example: --filter-pattern ERROR with "[ERROR] 400 BAD REQUEST" twice and
    // "[INFO] 200 OK" returns events 1 and 2 with empty extractedValues.
    let p = pattern("ERROR");
    let got = test_metric_filter(
        &p,
        &[
            "[ERROR] 400 BAD REQUEST",
            "[ERROR] 400 BAD REQUEST",
            "[INFO] 200 OK",
        ],
    );
    let numbers: Vec<u64> = got.iter().map(|r| r.event_number).collect();
    assert_eq!(numbers, vec![1, 2]);
    assert!(got.iter().all(|r| r.extracted_values.is_empty()));
    assert_eq!(got[0].event_message, "[ERROR] 400 BAD REQUEST");
}

// ---- Limits -------------------------------------------------------------------------------

#[test]
fn patterns_over_1024_characters_are_refused() {
    assert!(FilterPattern::parse(&"a".repeat(1024)).is_ok());
    assert_eq!(
        FilterPattern::parse(&"é".repeat(1025)),
        Err(PatternError::TooLong { chars: 1025 })
    );
}

#[test]
fn deeply_nested_parentheses_are_refused_not_a_crash() {
    let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(500), ")".repeat(500));
    assert!(matches!(
        FilterPattern::parse(&deep),
        Err(PatternError::TooDeep { .. })
    ));
    let deep = format!("[{}a = 1{}]", "(".repeat(500), ")".repeat(500));
    assert!(matches!(
        FilterPattern::parse(&deep),
        Err(PatternError::TooDeep { .. })
    ));
    let ok = format!(
        "{{ {}$.a = 1{} }}",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    assert_matches(&ok, &[r#"{"a": 1}"#], &[true]);
    let over = format!(
        "{{ {}$.a = 1{} }}",
        "(".repeat(MAX_NESTING + 1),
        ")".repeat(MAX_NESTING + 1)
    );
    assert!(matches!(
        FilterPattern::parse(&over),
        Err(PatternError::TooDeep { .. })
    ));
}

#[test]
fn printing_gives_the_canonical_form() {
    for (input, printed) in [
        ("ERROR  -x ?%a.b%", r#""ERROR" -"x" ?%a.b%"#),
        (
            "{$.a=1&&($.b=x||$.c IS null)}",
            r#"{ $.a = 1 && ($.b = "x" || $.c IS NULL) }"#,
        ),
        ("{ ((($.a = 1)) ) }", "{ $.a = 1 }"),
        (
            "[ip,...,status_code=4*&&status_code!=404,]",
            r#"[ip, ..., status_code = "4*" && status_code != 404, ]"#,
        ),
        ("", ""),
    ] {
        assert_eq!(pattern(input).to_string(), printed, "{input}");
    }
}

#[test]
fn parsed_patterns_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + 'static>(_: &T) {}
    shareable(&pattern("%a% ERROR"));
}

// ---- Properties -------------------------------------------------------------------------------

/// Strings from the pattern alphabet, so the parsers get deep rather than fail at once.
fn pattern_like() -> impl Strategy<Value = String> {
    r#"[{}\[\]()$.a-c0-2 =!<>&|"%*?,\-\\^+]{0,120}"#
}

fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]{1,6}".prop_map(|s| s),
        "[a-z0-9 .\"\\\\*]{0,6}"
            .prop_map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))),
        "[+-]?[0-9]{1,3}(\\.[0-9]{1,2})?(e[+-]?[0-9])?".prop_map(|s| s),
        "[a-z]{1,3}\\*".prop_map(|s| s),
        "\\*[a-z]{0,3}\\*?".prop_map(|s| s),
        "[a-z.^$]{1,4}".prop_map(|s| format!("%{s}%")),
    ]
}

fn json_condition() -> impl Strategy<Value = String> {
    let selector = prop_oneof![
        "\\$\\.[a-c]{1,2}".prop_map(|s| s),
        "\\$\\.[a-c]\\[[0-2]\\]".prop_map(|s| s),
        "\\$\\.[a-c]\\.\\*".prop_map(|s| s),
        "\\$\\.[a-c]\\[\\*\\]\\.[a-c]".prop_map(|s| s),
    ];
    let test = prop_oneof![
        value_text().prop_map(|v| format!("= {v}")),
        value_text().prop_map(|v| format!("!= {v}")),
        "(<|>|<=|>=) [0-9]{1,3}".prop_map(|s| s),
        Just("IS NULL".to_owned()),
        Just("IS TRUE".to_owned()),
        Just("IS FALSE".to_owned()),
        Just("NOT EXISTS".to_owned()),
    ];
    (selector, test).prop_map(|(s, t)| format!("{s} {t}"))
}

fn json_expr() -> impl Strategy<Value = String> {
    json_condition().prop_recursive(4, 16, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" && ")),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" || ")),
            inner.prop_map(|e| format!("({e})")),
        ]
    })
}

fn valid_pattern() -> impl Strategy<Value = String> {
    let term = prop_oneof![
        "[a-zA-Z0-9_]{1,8}".prop_map(|s| s),
        "[a-z :\\[\\]]{1,8}".prop_map(|s| format!("\"{s}\"")),
        "[a-z.]{1,4}".prop_map(|s| format!("%{s}%")),
    ];
    let terms = proptest::collection::vec(("(-|\\?)?", term), 1..5).prop_map(|v| {
        v.into_iter()
            .map(|(m, t)| format!("{m}{t}"))
            .collect::<Vec<_>>()
            .join(" ")
    });
    let field = prop_oneof![
        "f[0-9]".prop_map(|s| s),
        ("f[0-9]", value_text()).prop_map(|(n, v)| format!("{n} = {v}")),
        ("f[0-9]", "[0-9]{1,3}").prop_map(|(n, v)| format!("{n} > {v}")),
        ("f[0-9]", value_text(), value_text())
            .prop_map(|(n, a, b)| format!("{n} = {a} || {n} != {b}")),
        Just(String::new()),
        Just("...".to_owned()),
    ];
    let delimited = proptest::collection::vec(field, 1..6)
        // `[]` (one empty entry) is not a pattern.
        .prop_filter("needs a field", |v| v.len() > 1 || !v[0].is_empty())
        .prop_map(|v| format!("[{}]", v.join(", ")));
    prop_oneof![
        terms,
        json_expr().prop_map(|e| format!("{{ {e} }}")),
        delimited
    ]
}

fn event_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 \\[\\]\":.*]{0,60}".prop_map(|s| s),
        r#"\{"[a-c]": ([0-9]{1,3}|"[a-z0-9.*]{0,4}"|null|true|false|\[[0-9], "[a-z]"\]|\{"[a-c]": [0-9]\})(, "[a-c]": [0-9])?\}"#.prop_map(|s| s),
    ]
}

proptest! {
    #[test]
    fn parsing_never_panics_on_arbitrary_text(s in "\\PC{0,2048}") {
        let _ = FilterPattern::parse(&s);
    }

    #[test]
    fn parsing_never_panics_on_pattern_like_text(s in pattern_like()) {
        if let Ok(p) = FilterPattern::parse(&s) {
            // Whatever parses prints back to the same pattern.
            let printed = p.to_string();
            let again = FilterPattern::parse(&printed);
            prop_assert_eq!(again.as_ref().ok(), Some(&p), "{:?} printed as {:?}", s, printed);
        }
    }

    #[test]
    fn valid_patterns_parse_and_print_back_to_the_same_pattern(s in valid_pattern()) {
        match FilterPattern::parse(&s) {
            Ok(p) => {
                let printed = p.to_string();
                let again = FilterPattern::parse(&printed);
                prop_assert_eq!(again.as_ref().ok(), Some(&p), "{:?} printed as {:?}", s, printed);
            }
            // Generated patterns can still break a documented limit (duplicate field names,
            // two ellipses, three regexes or too many wildcards); nothing else may fail.
            Err(err) => prop_assert!(
                matches!(
                    err,
                    PatternError::DuplicateField { .. }
                        | PatternError::TooManyRegexes { .. }
                        | PatternError::TooManyWildcards { .. }
                        | PatternError::Invalid { problem: "a second '...'", .. }
                ),
                "{:?}: {}", s, err
            ),
        }
    }

    #[test]
    fn matching_is_deterministic_and_both_entry_points_agree(
        p in valid_pattern(),
        events in proptest::collection::vec(event_text(), 1..4),
    ) {
        if let Ok(p) = FilterPattern::parse(&p) {
            for event in &events {
                let first = p.is_match(event);
                prop_assert_eq!(first, p.is_match(event));
                let m = p.matches(event);
                prop_assert_eq!(first, m.is_some());
                if let Some(m) = m {
                    prop_assert_eq!(m.extracted_values(), p.matches(event).map(|m| m.extracted_values()).unwrap_or_default());
                }
            }
        }
    }
}
