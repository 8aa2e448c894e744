// SPDX-License-Identifier: Apache-2.0
//! Model-constraint validation with AWS's (Coral's) message format.
//!
//! `1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: Member
//! must have value greater than or equal to 1`. Several failures are joined with `; ` under
//! `N validation errors detected: `, at most ten listed. Paths use lowerCamel member names.
//! Within one member, constraints are checked in Coral's order: not null, value bounds,
//! pattern, length bounds, enum.

use std::fmt;

/// A model pattern: the matcher and the pattern text quoted in messages.
pub type Pattern = (fn(&str) -> bool, &'static str);

/// Collects constraint failures of one request.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<String>,
}

/// The path of a member of a list element, `records.3.member.data` (Coral counts from 1),
/// formatted only if a constraint on it fails: a PutRecords of 500 records checks 2,500 such
/// paths and nearly always reports none.
#[derive(Debug, Clone, Copy)]
pub struct ListMember<'a> {
    /// The list's path.
    pub list: &'a str,
    /// The element's index, from 0.
    pub index: usize,
    /// The member's name.
    pub member: &'a str,
}

impl fmt::Display for ListMember<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.member.{}", self.list, self.index + 1, self.member)
    }
}

/// How Coral renders a value in a message.
#[derive(Debug, Clone, Copy)]
pub enum Shown<'a> {
    /// Absent: `null`.
    Null,
    /// A string or number: `'v'`.
    Text(&'a str),
    /// A blob of this many bytes: `java.nio.HeapByteBuffer[pos=0 lim=n cap=n]`.
    Blob(usize),
}

impl Shown<'_> {
    fn render(self) -> String {
        match self {
            Shown::Null => "null".to_owned(),
            Shown::Text(t) => format!("'{t}'"),
            Shown::Blob(n) => format!("'java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]'"),
        }
    }
}

impl Validator {
    /// A validator with no failures.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one failure.
    pub fn fail(&mut self, value: Shown<'_>, path: impl fmt::Display + Copy, constraint: &str) {
        self.errors.push(format!(
            "Value {} at '{path}' failed to satisfy constraint: {constraint}",
            value.render()
        ));
    }

    /// A required member that is absent.
    pub fn required<T>(&mut self, path: impl fmt::Display + Copy, v: &Option<T>) {
        if v.is_none() {
            self.fail(Shown::Null, path, "Member must not be null");
        }
    }

    /// A string member: pattern (when given), then length bounds in characters.
    pub fn string(
        &mut self,
        path: impl fmt::Display + Copy,
        v: Option<&str>,
        min: usize,
        max: Option<usize>,
        pattern: Option<Pattern>,
    ) {
        let Some(s) = v else { return };
        if let Some((matches, text)) = pattern
            && !matches(s)
        {
            let rule = format!("Member must satisfy regular expression pattern: {text}");
            self.fail(Shown::Text(s), path, &rule);
        }
        let len = s.chars().count();
        if len < min {
            let rule = format!("Member must have length greater than or equal to {min}");
            self.fail(Shown::Text(s), path, &rule);
        }
        if let Some(max) = max
            && len > max
        {
            let rule = format!("Member must have length less than or equal to {max}");
            self.fail(Shown::Text(s), path, &rule);
        }
    }

    /// An integer member's bounds.
    pub fn int(
        &mut self,
        path: impl fmt::Display + Copy,
        v: Option<i64>,
        min: Option<i64>,
        max: Option<i64>,
    ) {
        let Some(n) = v else { return };
        let text = n.to_string();
        if let Some(min) = min
            && n < min
        {
            let rule = format!("Member must have value greater than or equal to {min}");
            self.fail(Shown::Text(&text), path, &rule);
        }
        if let Some(max) = max
            && n > max
        {
            let rule = format!("Member must have value less than or equal to {max}");
            self.fail(Shown::Text(&text), path, &rule);
        }
    }

    /// A blob member's length bounds.
    pub fn blob(&mut self, path: impl fmt::Display + Copy, v: Option<&[u8]>, max: usize) {
        let Some(b) = v else { return };
        if b.len() > max {
            self.fail(
                Shown::Blob(b.len()),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// An enum member.
    pub fn one_of(&mut self, path: impl fmt::Display + Copy, v: Option<&str>, allowed: &[&str]) {
        let Some(s) = v else { return };
        if !allowed.contains(&s) {
            self.fail(
                Shown::Text(s),
                path,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// A list member's length bounds; `shown` renders the list as Coral would.
    pub fn list_len(
        &mut self,
        path: impl fmt::Display + Copy,
        len: Option<usize>,
        shown: &str,
        min: usize,
        max: usize,
    ) {
        let Some(n) = len else { return };
        if n < min {
            self.fail(
                Shown::Text(shown),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if n > max {
            self.fail(
                Shown::Text(shown),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// A string-to-string map member (tags): entry count, then key and value lengths, each
    /// reported once for the whole map as Coral does.
    pub fn string_map(
        &mut self,
        path: impl fmt::Display + Copy,
        map: Option<&std::collections::BTreeMap<String, String>>,
        entries: (usize, usize),
        key_len: (usize, usize),
        value_len: (usize, usize),
    ) {
        let Some(map) = map else { return };
        let shown = format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.list_len(path, Some(map.len()), &shown, entries.0, entries.1);
        let outside = |s: &str, (min, max): (usize, usize)| {
            let n = s.chars().count();
            n < min || n > max
        };
        if map.keys().any(|k| outside(k, key_len)) {
            let rule = format!(
                "Map keys must satisfy constraint: [Member must have length less than or equal \
                 to {}, Member must have length greater than or equal to {}]",
                key_len.1, key_len.0
            );
            self.fail(Shown::Text(&shown), path, &rule);
        }
        if map.values().any(|v| outside(v, value_len)) {
            let rule = format!(
                "Map value must satisfy constraint: [Member must have length less than or equal \
                 to {}, Member must have length greater than or equal to {}]",
                value_len.1, value_len.0
            );
            self.fail(Shown::Text(&shown), path, &rule);
        }
    }

    /// A list-of-strings member: list length, then one combined failure when any member
    /// breaks its length bounds or enum.
    pub fn string_list(
        &mut self,
        path: impl fmt::Display + Copy,
        list: Option<&[String]>,
        list_len: (usize, usize),
        member: StringMember<'_>,
    ) {
        let Some(list) = list else { return };
        let shown = format!("[{}]", list.join(", "));
        self.list_len(path, Some(list.len()), &shown, list_len.0, list_len.1);
        let rule = match member {
            StringMember::Length(min, max) => list
                .iter()
                .any(|s| {
                    let n = s.chars().count();
                    n < min || n > max
                })
                .then(|| {
                    format!(
                        "Member must satisfy constraint: [Member must have length less than or \
                         equal to {max}, Member must have length greater than or equal to {min}]"
                    )
                }),
            StringMember::OneOf(allowed) => list
                .iter()
                .any(|s| !allowed.contains(&s.as_str()))
                .then(|| {
                    format!(
                        "Member must satisfy constraint: [Member must satisfy enum value set: \
                         [{}]]",
                        allowed.join(", ")
                    )
                }),
        };
        if let Some(rule) = rule {
            self.fail(Shown::Text(&shown), path, &rule);
        }
    }

    /// The ValidationException message, or `None` when nothing failed.
    pub fn finish(self) -> Option<String> {
        let n = self.errors.len();
        if n == 0 {
            return None;
        }
        let listed: Vec<&str> = self.errors.iter().take(10).map(String::as_str).collect();
        let noun = if n == 1 { "error" } else { "errors" };
        Some(format!(
            "{n} validation {noun} detected: {}",
            listed.join("; ")
        ))
    }
}

/// The constraint on each member of a list of strings.
#[derive(Debug, Clone, Copy)]
pub enum StringMember<'a> {
    /// Length bounds in characters.
    Length(usize, usize),
    /// An enum.
    OneOf(&'a [&'a str]),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_name(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    }

    #[test]
    fn one_error_is_singular() {
        let mut v = Validator::new();
        v.int("shardCount", Some(0), Some(1), None);
        assert_eq!(
            v.finish().as_deref(),
            Some(
                "1 validation error detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1"
            )
        );
    }

    #[test]
    fn several_errors_are_joined_and_capped_at_ten() {
        let mut v = Validator::new();
        v.string(
            "streamName",
            Some(""),
            1,
            Some(128),
            Some((is_name, "[a-zA-Z0-9_.-]+")),
        );
        v.required::<i32>("shardCount", &None);
        assert_eq!(
            v.finish().as_deref(),
            Some(
                "3 validation errors detected: Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'shardCount' failed to satisfy constraint: Member must not be null"
            )
        );
        let mut v = Validator::new();
        for i in 0..12 {
            v.required::<i32>(&format!("m{i}"), &None);
        }
        let msg = v.finish().expect("errors");
        assert!(msg.starts_with("12 validation errors detected: "));
        assert_eq!(msg.matches("Member must not be null").count(), 10);
    }

    #[test]
    fn blobs_render_as_java_buffers() {
        let mut v = Validator::new();
        v.blob("data", Some(&[0u8; 11]), 10);
        assert!(
            v.finish()
                .expect("error")
                .contains("Value 'java.nio.HeapByteBuffer[pos=0 lim=11 cap=11]' at 'data'")
        );
    }

    #[test]
    fn maps_and_lists_report_member_constraints_once() {
        let mut v = Validator::new();
        let map = std::collections::BTreeMap::from([
            (String::new(), "v".to_owned()),
            ("k".to_owned(), "x".repeat(3)),
        ]);
        v.string_map("tags", Some(&map), (1, 200), (1, 128), (0, 2));
        assert_eq!(
            v.finish().as_deref(),
            Some(
                "2 validation errors detected: Value '{=v, k=xxx}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]; Value '{=v, k=xxx}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 2, Member must have length greater than or equal to 0]"
            )
        );
        let mut v = Validator::new();
        let list = vec!["A".to_owned(), "Nope".to_owned()];
        v.string_list("m", Some(&list), (1, 7), StringMember::OneOf(&["A", "B"]));
        assert_eq!(
            v.finish().as_deref(),
            Some(
                "1 validation error detected: Value '[A, Nope]' at 'm' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [A, B]]"
            )
        );
    }
}
