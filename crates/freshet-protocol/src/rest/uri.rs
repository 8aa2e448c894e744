// SPDX-License-Identifier: Apache-2.0
//! Request-URI templates (`/2015-03-31/functions/{FunctionName}/invocations`,
//! `/{Bucket}/{Key+}`, `/2018-10-31/layers?find=LayerVersion`) and matching a request against
//! them.
//!
//! A template is a method, path segments (literal, `{Label}` or a final greedy `{Label+}`)
//! and literal query parts that must be present in the request. When several templates
//! match, the most specific wins: compared segment by segment from the left, a literal beats
//! a label and a label beats a greedy label; then more literal query parts win. Labels are
//! percent-decoded; a label never matches an empty segment.

use std::borrow::Cow;

/// Decoded URI labels: (label name, text).
pub(crate) type Labels = Vec<(Box<str>, String)>;

/// A literal query part of a template: `?versions` is `("versions", None)`.
type LiteralQuery = (Box<str>, Option<Box<str>>);

/// One path segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Literal(Box<str>),
    Label(Box<str>),
    /// Matches one or more segments, `/` included; only last.
    Greedy(Box<str>),
}

/// An operation's `http.method` + `http.requestUri`.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub(crate) method: Box<str>,
    pub(crate) segments: Box<[Segment]>,
    /// `?versions` is `("versions", None)`, `?List=ALL` is `("List", Some("ALL"))`.
    pub(crate) query: Box<[LiteralQuery]>,
    /// Index of the operation.
    pub(crate) op: usize,
}

impl Template {
    /// Parses `request_uri`; `None` for a greedy label that is not last or an unclosed brace.
    pub(crate) fn parse(method: &str, request_uri: &str, op: usize) -> Option<Template> {
        let (path, query) = match request_uri.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (request_uri, None),
        };
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let parts: &[&str] = match parts.as_slice() {
            [""] => &[],
            p => p,
        };
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let seg = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(label) => match label.strip_suffix('+') {
                    Some(greedy) if i + 1 == parts.len() => Segment::Greedy(greedy.into()),
                    Some(_) => return None,
                    None => Segment::Label(label.into()),
                },
                None if part.contains(['{', '}']) => return None,
                None => Segment::Literal((*part).into()),
            };
            segments.push(seg);
        }
        let query = query
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.into(), Some(v.into())),
                None => (kv.into(), None),
            })
            .collect();
        Some(Template {
            method: method.to_ascii_uppercase().into(),
            segments: segments.into(),
            query,
            op,
        })
    }

    /// The labels, decoded, if `path` (no query) and `query` match; with a specificity rank.
    fn matches(
        &self,
        path_segments: &[&str],
        query: &[(Cow<'_, str>, Cow<'_, str>)],
    ) -> Option<(Vec<u8>, Labels)> {
        let mut rank = Vec::with_capacity(self.segments.len() + 1);
        let mut labels = Vec::new();
        let mut i = 0;
        for seg in self.segments.iter() {
            match seg {
                Segment::Literal(lit) => {
                    if path_segments.get(i) != Some(&&**lit) {
                        return None;
                    }
                    rank.push(3);
                    i += 1;
                }
                Segment::Label(name) => {
                    let raw = path_segments.get(i).filter(|s| !s.is_empty())?;
                    labels.push((name.clone(), percent_decode(raw)?));
                    rank.push(2);
                    i += 1;
                }
                Segment::Greedy(name) => {
                    let rest = path_segments.get(i..).filter(|r| !r.is_empty())?;
                    let joined = rest.join("/");
                    if joined.is_empty() {
                        return None;
                    }
                    labels.push((name.clone(), percent_decode(&joined)?));
                    rank.push(1);
                    i = path_segments.len();
                }
            }
        }
        if i != path_segments.len() {
            return None;
        }
        for (k, v) in self.query.iter() {
            let present = query
                .iter()
                .any(|(qk, qv)| qk == &**k && v.as_deref().is_none_or(|v| qv == v));
            if !present {
                return None;
            }
        }
        rank.push(self.query.len().min(250) as u8);
        Some((rank, labels))
    }
}

/// The operation index and decoded labels of the most specific template matching.
pub(crate) fn resolve(
    templates: &[Template],
    method: &str,
    path: &str,
    query: &[(Cow<'_, str>, Cow<'_, str>)],
) -> Option<(usize, Labels)> {
    let trimmed = path.trim_start_matches('/');
    let mut segments: Vec<&str> = trimmed.split('/').collect();
    // `/a/b/` is `/a/b`, and `/` is no segment at all.
    if segments.last() == Some(&"") {
        segments.pop();
    }
    let mut best: Option<(Vec<u8>, usize, Labels)> = None;
    for t in templates {
        if !t.method.eq_ignore_ascii_case(method) {
            continue;
        }
        if let Some((rank, labels)) = t.matches(&segments, query)
            && best.as_ref().is_none_or(|(r, _, _)| rank > *r)
        {
            best = Some((rank, t.op, labels));
        }
    }
    best.map(|(_, op, labels)| (op, labels))
}

/// Percent-decodes `s` into UTF-8 text; `None` for a bad escape or bytes that are not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates(specs: &[(&str, &str)]) -> Vec<Template> {
        specs
            .iter()
            .enumerate()
            .map(|(i, (m, u))| Template::parse(m, u, i).expect("template"))
            .collect()
    }

    fn q(pairs: &[(&'static str, &'static str)]) -> Vec<(Cow<'static, str>, Cow<'static, str>)> {
        pairs
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(*v)))
            .collect()
    }

    #[test]
    fn literal_segments_beat_labels_and_labels_beat_greedy_labels() {
        let t = templates(&[
            ("GET", "/f/{Name}"),
            ("GET", "/f/list"),
            ("GET", "/{Bucket}/{Key+}"),
        ]);
        assert_eq!(resolve(&t, "GET", "/f/list", &[]).map(|r| r.0), Some(1));
        let (op, labels) = resolve(&t, "GET", "/f/x%20y", &[]).expect("match");
        assert_eq!(op, 0);
        assert_eq!(labels, vec![("Name".into(), "x y".to_owned())]);
        let (op, labels) = resolve(&t, "GET", "/b/k/e/y", &[]).expect("match");
        assert_eq!(op, 2);
        assert_eq!(labels[1], ("Key".into(), "k/e/y".to_owned()));
    }

    #[test]
    fn literal_query_parts_select_their_operation_only_when_present() {
        let t = templates(&[("GET", "/layers"), ("GET", "/layers?find=LayerVersion")]);
        assert_eq!(resolve(&t, "GET", "/layers", &[]).map(|r| r.0), Some(0));
        let found = resolve(&t, "GET", "/layers", &q(&[("find", "LayerVersion")]));
        assert_eq!(found.map(|r| r.0), Some(1));
        let other = resolve(&t, "GET", "/layers", &q(&[("find", "Other")]));
        assert_eq!(other.map(|r| r.0), Some(0));
    }

    #[test]
    fn empty_labels_bad_escapes_and_other_methods_do_not_match() {
        let t = templates(&[("DELETE", "/f/{Name}")]);
        assert!(resolve(&t, "DELETE", "/f/", &[]).is_none());
        assert!(resolve(&t, "DELETE", "/f/%zz", &[]).is_none());
        assert!(resolve(&t, "GET", "/f/x", &[]).is_none());
        assert!(resolve(&t, "DELETE", "/f/x/y", &[]).is_none());
    }

    #[test]
    fn greedy_labels_must_be_last() {
        assert!(Template::parse("GET", "/{Key+}/x", 0).is_none());
        assert!(Template::parse("GET", "/a{b}", 0).is_none());
    }
}
