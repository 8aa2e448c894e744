// SPDX-License-Identifier: Apache-2.0
//! `freshet demo kpl`: the Managed Service for Apache Flink getting-started producer's records,
//! aggregated as the Kinesis Producer Library sends them.
//!
//! User records are `{"EVENT_TIME": "2026-12-06T10:30:45.123456", "TICKER": "AAPL",
//! "PRICE": 12.34}`, as that tutorial's `stock.py` writes them: one of five tickers at
//! random, a price uniform in [0, 100) rounded to cents, and EVENT_TIME as Python's
//! `datetime.now().isoformat()` (here always in UTC, without an offset). Each user record's
//! partition key is its ticker.
//!
//! [`pack`] turns the user records of one batch into KPL aggregated records of at most
//! [`MAX_AGGREGATE_BYTES`] each (normally one per batch). Every aggregate carries one
//! explicit hash key, drawn at random per aggregate, on itself and on each of its user
//! records: the aggregate then lands on one shard, and so does every user record in it by
//! its own hash key, which the KCL checks (it drops a user record whose hash key is outside
//! the shard it was read from). Random keys spread the aggregates over the shards.

use freshet_types::kpl::Aggregator;
use jiff::Timestamp;
use rand::Rng as _;
use rand::rngs::StdRng;
use serde::Serialize;

use super::records::{Generator, Record, cents, iso_micros, utc};
use super::sink::Entry;
use super::stock::to_json;

/// The tutorial producer's tickers.
const TICKERS: [&str; 5] = ["AAPL", "AMZN", "MSFT", "INTC", "TBV"];
/// Largest aggregated record (data plus partition key): Kinesis's 1 MiB record limit.
pub const MAX_AGGREGATE_BYTES: usize = 1024 * 1024;

/// One user record, fields in the tutorial's order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct Event<'a> {
    event_time: String,
    ticker: &'a str,
    price: f64,
}

/// Generates the tutorial's user records.
pub struct Kpl {
    rng: StdRng,
}

impl Kpl {
    /// A generator drawing from `rng`.
    pub fn new(rng: StdRng) -> Kpl {
        Kpl { rng }
    }
}

impl Generator for Kpl {
    fn next_record(&mut self, now: Timestamp) -> Record {
        let ticker = TICKERS[self.rng.random_range(0..TICKERS.len())];
        let event = Event {
            event_time: iso_micros(utc(now)),
            ticker,
            price: cents(self.rng.random::<f64>() * 100.0),
        };
        Record {
            key: ticker.to_owned(),
            data: to_json(&event),
        }
    }
}

/// Packs user records into aggregates of at most [`MAX_AGGREGATE_BYTES`], each keyed by its
/// first user record's partition key and a random explicit hash key drawn from `rng`.
/// A user record too large to share an aggregate goes alone into one (which the put then
/// refuses if it passes the record limit).
pub fn pack(records: Vec<Record>, rng: &mut StdRng) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut agg = Aggregator::new();
    let mut first_key = String::new();
    let mut hash_key = String::new();
    for record in records {
        if agg.is_empty() {
            first_key.clone_from(&record.key);
            hash_key = rng.random::<u128>().to_string();
        } else if agg.encoded_len_with(&record.key, Some(&hash_key), &record.data) + first_key.len()
            > MAX_AGGREGATE_BYTES
        {
            out.push(close(&mut agg, &mut first_key, &hash_key));
            first_key.clone_from(&record.key);
            hash_key = rng.random::<u128>().to_string();
        }
        agg.push(&record.key, Some(&hash_key), &record.data);
    }
    if !agg.is_empty() {
        out.push(close(&mut agg, &mut first_key, &hash_key));
    }
    out
}

fn close(agg: &mut Aggregator, first_key: &mut String, hash_key: &str) -> Entry {
    let records = agg.len() as u64;
    Entry {
        key: std::mem::take(first_key),
        hash_key: Some(hash_key.to_owned()),
        data: agg.finish(),
        records,
    }
}

#[cfg(test)]
mod tests {
    use freshet_types::hash::parse_hash_key;
    use freshet_types::kpl::deaggregate;
    use proptest::prelude::*;
    use rand::SeedableRng as _;
    use serde_json::Value;

    use super::*;

    fn now() -> Timestamp {
        "2026-12-06T10:30:45.5Z".parse().expect("timestamp")
    }

    #[test]
    fn user_records_follow_the_flink_tutorial_schema() {
        let mut g = Kpl::new(StdRng::seed_from_u64(1));
        for _ in 0..500 {
            let r = g.next_record(now());
            let text = String::from_utf8(r.data).expect("utf-8");
            assert!(
                text.starts_with("{\"EVENT_TIME\":\"2026-12-06T10:30:45.500000\","),
                "{text}"
            );
            let v: Value = serde_json::from_str(&text).expect("json");
            assert_eq!(v["TICKER"].as_str(), Some(r.key.as_str()));
            assert!(TICKERS.contains(&r.key.as_str()));
            let price = v["PRICE"].as_f64().expect("price");
            assert!((0.0..=100.0).contains(&price));
        }
    }

    #[test]
    fn a_batch_becomes_one_aggregate_that_deaggregates_to_it() {
        let mut g = Kpl::new(StdRng::seed_from_u64(2));
        let records: Vec<Record> = (0..100).map(|_| g.next_record(now())).collect();
        let entries = pack(records.clone(), &mut StdRng::seed_from_u64(3));
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.records, 100);
        assert_eq!(e.key, records[0].key);
        let hash = e.hash_key.as_deref().expect("explicit hash key");
        assert!(parse_hash_key(hash).is_some(), "{hash}");
        let users = deaggregate(&e.data).expect("an aggregate");
        assert_eq!(users.len(), 100);
        for (u, r) in users.iter().zip(&records) {
            assert_eq!((u.partition_key, u.data), (r.key.as_str(), &r.data[..]));
            assert_eq!(u.explicit_hash_key, Some(hash), "the aggregate's hash key");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn packing_keeps_every_record_in_order_within_the_size_cap(
            sizes in prop::collection::vec(0usize..200_000, 0..16),
        ) {
            let records: Vec<Record> = sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| Record { key: format!("k{i}"), data: vec![b'x'; n] })
                .collect();
            let entries = pack(records.clone(), &mut StdRng::seed_from_u64(0));
            let mut back = Vec::new();
            for e in &entries {
                prop_assert!(e.data.len() + e.key.len() <= MAX_AGGREGATE_BYTES);
                let users = deaggregate(&e.data).expect("an aggregate");
                prop_assert_eq!(users.len() as u64, e.records);
                back.extend(users.iter().map(|u| (u.partition_key.to_owned(), u.data.len())));
            }
            let want: Vec<(String, usize)> =
                records.iter().map(|r| (r.key.clone(), r.data.len())).collect();
            prop_assert_eq!(back, want);
        }
    }
}
