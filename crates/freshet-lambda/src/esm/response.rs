// SPDX-License-Identifier: Apache-2.0
//! Reading a function's answer to a batch: ReportBatchItemFailures and tumbling-window state
//! (<https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html>).
//!
//! - Full success: no response, `null`, an empty object, an object without
//!   `batchItemFailures`, or an empty or null `batchItemFailures` list.
//! - Full failure: an entry whose `itemIdentifier` is missing, null, empty, not a string or
//!   names no record of the batch; a `batchItemFailures` that is not a list.
//! - Otherwise the failed items are the listed ones; a stream checkpoints at the first
//!   (lowest) of them, a queue deletes all the others.

use serde_json::Value;

/// What a response says about the items of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemFailures {
    /// Every item succeeded.
    None,
    /// The whole batch failed (including malformed answers).
    All,
    /// These items (indexes into the batch, ascending) failed.
    Some(Vec<usize>),
}

impl ItemFailures {
    /// The first failed index, if any (`Some(0)` for [`ItemFailures::All`]).
    pub fn first(&self) -> Option<usize> {
        match self {
            ItemFailures::None => None,
            ItemFailures::All => Some(0),
            ItemFailures::Some(v) => v.first().copied(),
        }
    }
}

/// Parses a response payload (empty means no response).
pub fn parse_json(payload: &[u8]) -> Option<Value> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    serde_json::from_slice(payload).ok()
}

/// Reads `batchItemFailures` of `response` against the batch's item ids, in batch order.
pub fn item_failures(response: Option<&Value>, ids: &[&str]) -> ItemFailures {
    let list = match response {
        None | Some(Value::Null) => return ItemFailures::None,
        Some(Value::Object(m)) => match m.get("batchItemFailures") {
            None | Some(Value::Null) => return ItemFailures::None,
            Some(Value::Array(list)) => list,
            Some(_) => return ItemFailures::All,
        },
        // A plain string or number names no failures.
        Some(_) => return ItemFailures::None,
    };
    let mut failed = Vec::with_capacity(list.len());
    for entry in list {
        let id = entry
            .as_object()
            .and_then(|o| o.get("itemIdentifier"))
            .and_then(Value::as_str);
        match id.filter(|s| !s.is_empty()) {
            Some(id) => match ids.iter().position(|x| *x == id) {
                Some(i) => failed.push(i),
                None => return ItemFailures::All,
            },
            None => return ItemFailures::All,
        }
    }
    if failed.is_empty() {
        return ItemFailures::None;
    }
    failed.sort_unstable();
    failed.dedup();
    ItemFailures::Some(failed)
}

/// The `state` of a tumbling-window response; `None` when it has none (the invocation then
/// counts as failed).
pub fn window_state(response: Option<&Value>) -> Option<Value> {
    match response? {
        Value::Object(m) => match m.get("state")? {
            s @ Value::Object(_) => Some(s.clone()),
            Value::Null => Some(Value::Object(Default::default())),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    const IDS: &[&str] = &["1", "2", "3"];

    fn f(v: Value) -> ItemFailures {
        item_failures(Some(&v), IDS)
    }

    #[test]
    fn empty_null_and_missing_lists_are_full_success() {
        assert_eq!(item_failures(None, IDS), ItemFailures::None);
        assert_eq!(f(json!(null)), ItemFailures::None);
        assert_eq!(f(json!({})), ItemFailures::None);
        assert_eq!(f(json!({"batchItemFailures": []})), ItemFailures::None);
        assert_eq!(f(json!({"batchItemFailures": null})), ItemFailures::None);
        assert_eq!(parse_json(b"  "), None);
    }

    #[test]
    fn malformed_entries_fail_the_whole_batch() {
        for bad in [
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"itemIdentifer": "2"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": "9"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": 2}]}),
            json!({"batchItemFailures": "2"}),
        ] {
            assert_eq!(f(bad.clone()), ItemFailures::All, "{bad}");
        }
    }

    #[test]
    fn listed_items_fail_and_the_lowest_comes_first() {
        let r = f(json!({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]}));
        assert_eq!(r, ItemFailures::Some(vec![1, 2]));
        assert_eq!(r.first(), Some(1));
    }

    #[test]
    fn window_responses_must_carry_state() {
        assert_eq!(
            window_state(Some(&json!({"state": {"a": 1}}))),
            Some(json!({"a": 1}))
        );
        assert_eq!(window_state(Some(&json!({"x": 1}))), None);
        assert_eq!(window_state(None), None);
    }

    proptest! {
        #[test]
        fn any_payload_parses_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let v = parse_json(&bytes);
            let _ = item_failures(v.as_ref(), IDS);
            let _ = window_state(v.as_ref());
        }
    }
}
