// SPDX-License-Identifier: Apache-2.0
//! `freshet demo covid`: COVID-19 test results as patient records.
//!
//! No AWS tutorial publishes a schema for these, so this one is ours, kept small and flat so
//! that Firehose's JSON-to-Parquet conversion and a Glue table take it as is:
//!
//! ```json
//! {"patient_id": "p-3f9c2a71d04e8b65", "age": 54, "sex": "female",
//!  "city": "Albany", "state": "NY", "test_type": "PCR", "result": "positive",
//!  "symptomatic": true, "hospitalized": false,
//!  "collected_at": "2026-12-05T21:14:09Z", "reported_at": "2026-12-06T10:30:00Z"}
//! ```
//!
//! `result` is `positive` for about one test in eight; `hospitalized` only ever for a positive
//! result, more often the older the patient; a sample is collected 1 to 48 hours before its
//! result is reported (the record's time). Partition key: the patient id.

use jiff::{SignedDuration, Timestamp};
use rand::Rng as _;
use rand::rngs::StdRng;
use serde::Serialize;

use super::records::{Generator, Record, rfc3339_seconds, utc};
use super::stock::to_json;

/// Cities and their states, where the patients live.
const PLACES: [(&str, &str); 20] = [
    ("New York", "NY"),
    ("Albany", "NY"),
    ("Buffalo", "NY"),
    ("Los Angeles", "CA"),
    ("San Francisco", "CA"),
    ("San Diego", "CA"),
    ("Seattle", "WA"),
    ("Spokane", "WA"),
    ("Chicago", "IL"),
    ("Houston", "TX"),
    ("Dallas", "TX"),
    ("Austin", "TX"),
    ("Miami", "FL"),
    ("Orlando", "FL"),
    ("Boston", "MA"),
    ("Denver", "CO"),
    ("Phoenix", "AZ"),
    ("Atlanta", "GA"),
    ("Detroit", "MI"),
    ("Philadelphia", "PA"),
];
/// Share of tests that are positive.
const POSITIVITY: f64 = 0.125;

/// One test result.
#[derive(Debug, Serialize)]
struct Patient<'a> {
    patient_id: String,
    age: u8,
    sex: &'a str,
    city: &'a str,
    state: &'a str,
    test_type: &'a str,
    result: &'a str,
    symptomatic: bool,
    hospitalized: bool,
    collected_at: String,
    reported_at: String,
}

/// Generates patient records.
pub struct Covid {
    rng: StdRng,
}

impl Covid {
    /// A generator drawing from `rng`.
    pub fn new(rng: StdRng) -> Covid {
        Covid { rng }
    }
}

impl Generator for Covid {
    fn next_record(&mut self, now: Timestamp) -> Record {
        let rng = &mut self.rng;
        let patient_id = format!("p-{:016x}", rng.random::<u64>());
        // Adults mostly, a few children and elderly.
        let age = (rng.random_range(0..90u8) + rng.random_range(0..20u8)).min(99);
        let (city, state) = PLACES[rng.random_range(0..PLACES.len())];
        let positive = rng.random_bool(POSITIVITY);
        let symptomatic = if positive {
            rng.random_bool(0.7)
        } else {
            rng.random_bool(0.2)
        };
        let hospitalized = positive && rng.random_bool((f64::from(age) / 400.0).min(0.25));
        let collected = now
            .checked_sub(SignedDuration::from_secs(rng.random_range(3_600..=172_800)))
            .unwrap_or(now);
        let patient = Patient {
            patient_id: patient_id.clone(),
            age,
            sex: if rng.random_bool(0.5) {
                "female"
            } else {
                "male"
            },
            city,
            state,
            test_type: if rng.random_bool(0.6) {
                "PCR"
            } else {
                "antigen"
            },
            result: if positive { "positive" } else { "negative" },
            symptomatic,
            hospitalized,
            collected_at: rfc3339_seconds(utc(collected)),
            reported_at: rfc3339_seconds(utc(now)),
        };
        Record {
            key: patient_id,
            data: to_json(&patient),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use serde_json::Value;

    use super::*;

    fn records(seed: u64, n: usize) -> Vec<Record> {
        let now: Timestamp = "2026-12-06T10:30:00Z".parse().expect("timestamp");
        let mut g = Covid::new(StdRng::seed_from_u64(seed));
        (0..n).map(|_| g.next_record(now)).collect()
    }

    #[test]
    fn patients_have_the_documented_fields_and_plausible_values() {
        let mut positives = 0;
        for r in records(11, 4000) {
            let v: Value = serde_json::from_slice(&r.data).expect("json");
            assert_eq!(v.as_object().expect("object").len(), 11);
            assert_eq!(v["patient_id"].as_str(), Some(r.key.as_str()));
            assert!(v["age"].as_u64().expect("age") <= 99);
            assert!(["female", "male"].contains(&v["sex"].as_str().expect("sex")));
            assert!(
                PLACES
                    .iter()
                    .any(|p| Some(p.0) == v["city"].as_str() && Some(p.1) == v["state"].as_str())
            );
            let positive = v["result"] == "positive";
            positives += usize::from(positive);
            assert!(positive || v["result"] == "negative");
            assert!(
                positive || v["hospitalized"] == false,
                "only positives are admitted"
            );
            assert_eq!(v["reported_at"], "2026-12-06T10:30:00Z");
            let collected = v["collected_at"].as_str().expect("collected");
            assert!(("2026-12-04T10:30:00Z".."2026-12-06T09:30:01Z").contains(&collected));
        }
        assert!(
            (300..700).contains(&positives),
            "{positives} positives in 4000"
        );
    }

    #[test]
    fn a_seed_gives_the_same_patients() {
        assert_eq!(records(5, 100), records(5, 100));
        assert_ne!(records(5, 100), records(6, 100));
    }
}
