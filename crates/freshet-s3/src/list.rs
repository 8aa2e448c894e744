// SPDX-License-Identifier: Apache-2.0
//! ListObjects(V2) semantics over an ordered key source, without I/O.
//!
//! Keys come in bytewise order from `fetch(after, limit)` (a page of keys starting with the
//! prefix and sorting after `after`). With a delimiter, a key whose remainder after the
//! prefix contains it rolls up into a common prefix (`prefix + remainder up to and including
//! the delimiter`), listed once; the scan then seeks past every key under that common prefix
//! instead of reading them. `max_keys` counts keys and common prefixes together; a page is
//! truncated only when another entry follows. The resume point (`next`) is the last entry
//! listed, key or common prefix: resuming after a common prefix skips the keys under it.

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry<T> {
    /// An object, with what the source returned for it.
    Key(String, T),
    /// A common prefix.
    Prefix(String),
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Page<T> {
    /// Entries in order.
    pub entries: Vec<Entry<T>>,
    /// Where the next page starts (after this), when truncated.
    pub next: Option<String>,
}

/// Past every key that starts with `p` (keys do not contain U+10FFFF in practice).
fn past(p: &str) -> String {
    format!("{p}\u{10FFFF}")
}

/// The common prefix `key` rolls up into, if any.
pub(crate) fn roll_up<'a>(key: &'a str, prefix: &str, delimiter: &str) -> Option<&'a str> {
    if delimiter.is_empty() {
        return None;
    }
    let rest = key.get(prefix.len()..)?;
    rest.find(delimiter)
        .map(|i| &key[..prefix.len() + i + delimiter.len()])
}

/// Lists one page. `after` is StartAfter or a continuation point; `fetch` errors propagate.
pub(crate) fn list<T, E>(
    prefix: &str,
    delimiter: &str,
    after: Option<&str>,
    max_keys: usize,
    batch: usize,
    mut fetch: impl FnMut(Option<&str>, usize) -> Result<Vec<(String, T)>, E>,
) -> Result<Page<T>, E> {
    let mut entries = Vec::new();
    if max_keys == 0 {
        return Ok(Page {
            entries,
            next: None,
        });
    }
    // A resume point inside a common prefix means that prefix was listed already.
    let resumed_in = after.and_then(|a| roll_up(a, prefix, delimiter).map(str::to_owned));
    let mut cursor: Option<String> = after.map(str::to_owned);
    if let Some(cp) = &resumed_in
        && after == Some(cp.as_str())
    {
        cursor = Some(past(cp));
    }
    let batch = batch.max(1);
    'scan: loop {
        let rows = fetch(cursor.as_deref(), batch)?;
        let full = rows.len() == batch;
        if rows.is_empty() {
            break;
        }
        for (key, value) in rows {
            let entry = match roll_up(&key, prefix, delimiter) {
                Some(cp) if resumed_in.as_deref() == Some(cp) => {
                    cursor = Some(past(cp));
                    continue 'scan;
                }
                Some(cp) => Entry::Prefix(cp.to_owned()),
                None => Entry::Key(key.clone(), value),
            };
            if entries.len() == max_keys {
                let next = match entries.last() {
                    Some(Entry::Key(k, _)) | Some(Entry::Prefix(k)) => Some(k.clone()),
                    None => None,
                };
                return Ok(Page { entries, next });
            }
            match entry {
                Entry::Prefix(cp) => {
                    cursor = Some(past(&cp));
                    entries.push(Entry::Prefix(cp));
                    continue 'scan;
                }
                e => {
                    cursor = Some(key);
                    entries.push(e);
                }
            }
        }
        if !full {
            break;
        }
    }
    Ok(Page {
        entries,
        next: None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn source(
        keys: &BTreeSet<String>,
        prefix: &str,
    ) -> impl FnMut(Option<&str>, usize) -> Result<Vec<(String, ())>, ()> {
        let keys: Vec<String> = keys
            .iter()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect();
        move |after, limit| {
            Ok(keys
                .iter()
                .filter(|k| after.is_none_or(|a| k.as_str() > a))
                .take(limit)
                .map(|k| (k.clone(), ()))
                .collect())
        }
    }

    /// The whole listing, the obvious way: every key, rolled up, deduplicated.
    fn model(keys: &BTreeSet<String>, prefix: &str, delimiter: &str) -> Vec<Entry<()>> {
        let mut out: Vec<Entry<()>> = Vec::new();
        for k in keys.iter().filter(|k| k.starts_with(prefix)) {
            let e = match roll_up(k, prefix, delimiter) {
                Some(cp) => Entry::Prefix(cp.to_owned()),
                None => Entry::Key(k.clone(), ()),
            };
            if out.last() != Some(&e) {
                out.push(e);
            }
        }
        out
    }

    #[test]
    fn delimiters_roll_keys_up_into_common_prefixes() {
        let keys: BTreeSet<String> = [
            "a.txt",
            "photos/1.jpg",
            "photos/2.jpg",
            "photos/x/3.jpg",
            "z",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let page = list("", "/", None, 1000, 2, source(&keys, "")).expect("list");
        assert_eq!(
            page.entries,
            vec![
                Entry::Key("a.txt".into(), ()),
                Entry::Prefix("photos/".into()),
                Entry::Key("z".into(), ()),
            ]
        );
        let page = list("photos/", "/", None, 1000, 2, source(&keys, "photos/")).expect("list");
        assert_eq!(
            page.entries,
            vec![
                Entry::Key("photos/1.jpg".into(), ()),
                Entry::Key("photos/2.jpg".into(), ()),
                Entry::Prefix("photos/x/".into()),
            ]
        );
    }

    #[test]
    fn pages_resume_after_a_common_prefix_without_repeating_it() {
        let keys: BTreeSet<String> = ["a/1", "a/2", "b", "c/1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p1 = list("", "/", None, 1, 10, source(&keys, "")).expect("list");
        assert_eq!(p1.entries, vec![Entry::Prefix("a/".into())]);
        assert_eq!(p1.next.as_deref(), Some("a/"));
        let p2 = list("", "/", p1.next.as_deref(), 1, 10, source(&keys, "")).expect("list");
        assert_eq!(p2.entries, vec![Entry::Key("b".into(), ())]);
        let p3 = list("", "/", p2.next.as_deref(), 1, 10, source(&keys, "")).expect("list");
        assert_eq!(p3.entries, vec![Entry::Prefix("c/".into())]);
        assert_eq!(p3.next, None);
    }

    proptest! {
        #[test]
        fn paging_through_a_listing_yields_the_model(
            keys in proptest::collection::btree_set("[ab/]{1,5}", 0..30),
            prefix in "[ab/]{0,2}",
            delimiter in prop_oneof![Just(String::new()), Just("/".to_owned()), Just("b".to_owned()), Just("a/".to_owned())],
            max_keys in 1usize..5,
            batch in 1usize..4,
        ) {
            let mut got = Vec::new();
            let mut after: Option<String> = None;
            for _ in 0..100 {
                let page = list(&prefix, &delimiter, after.as_deref(), max_keys, batch, source(&keys, &prefix)).expect("list");
                prop_assert!(page.entries.len() <= max_keys);
                got.extend(page.entries);
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            prop_assert_eq!(got, model(&keys, &prefix, &delimiter));
        }
    }
}
