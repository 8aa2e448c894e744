// SPDX-License-Identifier: Apache-2.0
//! `freshet demo taxi`: NYC TLC yellow taxi trip records.
//!
//! The columns are those of the TLC's yellow trip CSV files from 2019 on (18 columns, header
//! [`HEADER`]); `--format json` writes the same names with typed values, as the TLC's Parquet
//! files hold them. Values are plausible, not a model: a trip ends at the record's time and
//! lasts as long as its distance takes at city speeds; fares follow the standard metered rate
//! (JFK trips the flat fare), with the MTA tax, improvement and congestion surcharges, the
//! evening and rush-hour extras, tips on card payments and an occasional toll; total_amount
//! is the sum of the parts. Partition key: the pickup location id.

use clap::ValueEnum;
use jiff::{SignedDuration, Timestamp};
use rand::Rng as _;
use rand::rngs::StdRng;
use serde::Serialize;

use super::records::{Generator, Record, cents, space_seconds, utc};
use super::stock::to_json;

/// The TLC yellow trip CSV header.
pub const HEADER: &str = "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,\
trip_distance,RatecodeID,store_and_fwd_flag,PULocationID,DOLocationID,payment_type,fare_amount,\
extra,mta_tax,tip_amount,tolls_amount,improvement_surcharge,total_amount,congestion_surcharge";

/// Busy taxi zones (Manhattan and the airports), where most trips start and end.
const BUSY_ZONES: [u16; 30] = [
    237, 236, 161, 162, 230, 170, 142, 239, 186, 48, 234, 79, 132, 138, 68, 141, 163, 107, 140,
    249, 229, 100, 113, 43, 263, 262, 164, 90, 233, 246,
];
/// The highest TLC taxi zone id.
const MAX_ZONE: u16 = 263;
/// JFK airport's zone.
const JFK: u16 = 132;
/// The flat fare between Manhattan and JFK.
const JFK_FLAT_FARE: f64 = 52.0;
/// A bridge or tunnel toll.
const TOLL: f64 = 5.76;

/// How trips are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum TaxiFormat {
    /// CSV lines in the TLC's column order (files get the header line).
    #[default]
    Csv,
    /// One JSON object per trip, with the CSV's column names.
    Json,
}

/// One yellow taxi trip, in the TLC's column order and names.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Trip {
    #[serde(rename = "VendorID")]
    vendor_id: u8,
    tpep_pickup_datetime: String,
    tpep_dropoff_datetime: String,
    passenger_count: u8,
    trip_distance: f64,
    #[serde(rename = "RatecodeID")]
    ratecode_id: u8,
    store_and_fwd_flag: &'static str,
    #[serde(rename = "PULocationID")]
    pu_location_id: u16,
    #[serde(rename = "DOLocationID")]
    do_location_id: u16,
    payment_type: u8,
    fare_amount: f64,
    extra: f64,
    mta_tax: f64,
    tip_amount: f64,
    tolls_amount: f64,
    improvement_surcharge: f64,
    total_amount: f64,
    congestion_surcharge: f64,
}

impl Trip {
    /// The trip as a CSV line in [`HEADER`]'s order (no newline).
    pub fn csv(&self) -> String {
        format!(
            "{},{},{},{},{:.2},{},{},{},{},{},{:.2},{:.2},{:.2},{:.2},{:.2},{:.2},{:.2},{:.2}",
            self.vendor_id,
            self.tpep_pickup_datetime,
            self.tpep_dropoff_datetime,
            self.passenger_count,
            self.trip_distance,
            self.ratecode_id,
            self.store_and_fwd_flag,
            self.pu_location_id,
            self.do_location_id,
            self.payment_type,
            self.fare_amount,
            self.extra,
            self.mta_tax,
            self.tip_amount,
            self.tolls_amount,
            self.improvement_surcharge,
            self.total_amount,
            self.congestion_surcharge,
        )
    }
}

/// Generates taxi trips.
pub struct Taxi {
    rng: StdRng,
    format: TaxiFormat,
}

impl Taxi {
    /// A generator of `format` records drawing from `rng`.
    pub fn new(rng: StdRng, format: TaxiFormat) -> Taxi {
        Taxi { rng, format }
    }

    fn zone(&mut self) -> u16 {
        if self.rng.random_bool(0.85) {
            BUSY_ZONES[self.rng.random_range(0..BUSY_ZONES.len())]
        } else {
            self.rng.random_range(1..=MAX_ZONE)
        }
    }

    /// A trip that ends at `now`.
    pub fn trip(&mut self, now: Timestamp) -> Trip {
        let rng = &mut self.rng;
        let airport = rng.random_bool(0.03);
        // Mostly short hops: an exponential with a mean near the TLC's median of ~1.7 miles.
        let distance = if airport {
            rng.random_range(14.0..22.0)
        } else {
            (0.3 - 2.4 * (1.0 - rng.random::<f64>()).ln()).min(30.0)
        };
        let distance = cents(distance);
        let mph: f64 = rng.random_range(7.0..20.0);
        let minutes = distance / mph * 60.0 + rng.random_range(0.5..3.0);
        let seconds = (minutes * 60.0).round() as i64;
        let pickup = now
            .checked_sub(SignedDuration::from_secs(seconds))
            .unwrap_or(now);
        let (pu, do_) = if airport {
            let other = BUSY_ZONES[rng.random_range(0..BUSY_ZONES.len())];
            if rng.random_bool(0.5) {
                (JFK, other)
            } else {
                (other, JFK)
            }
        } else {
            let pu = self.zone();
            (pu, self.zone())
        };
        let rng = &mut self.rng;
        let hour = utc(pickup).hour();
        let extra = if airport {
            0.0
        } else if (16..20).contains(&hour) {
            1.0
        } else if !(6..20).contains(&hour) {
            0.5
        } else {
            0.0
        };
        let fare = if airport {
            JFK_FLAT_FARE
        } else {
            // $2.50 initial charge, $2.50 a mile, $0.50 a minute in slow traffic.
            cents(2.5 + 2.5 * distance + 0.5 * minutes * rng.random_range(0.1..0.5))
        };
        let payment_type = match rng.random_range(0..100) {
            0..75 => 1,
            75..98 => 2,
            98 => 3,
            _ => 4,
        };
        let tip = if payment_type == 1 {
            cents(fare * rng.random_range(0.12..0.25))
        } else {
            0.0
        };
        let tolls = if airport || rng.random_bool(0.04) {
            TOLL
        } else {
            0.0
        };
        let congestion = if rng.random_bool(0.92) { 2.5 } else { 0.0 };
        let (mta_tax, improvement) = (0.5, 0.3);
        let total = cents(fare + extra + mta_tax + tip + tolls + improvement + congestion);
        Trip {
            vendor_id: if rng.random_bool(0.35) { 1 } else { 2 },
            tpep_pickup_datetime: space_seconds(utc(pickup)),
            tpep_dropoff_datetime: space_seconds(utc(now)),
            passenger_count: match rng.random_range(0..100) {
                0..70 => 1,
                70..85 => 2,
                85..90 => 3,
                90..93 => 4,
                93..97 => 5,
                _ => 6,
            },
            trip_distance: distance,
            ratecode_id: if airport { 2 } else { 1 },
            store_and_fwd_flag: if rng.random_bool(0.01) { "Y" } else { "N" },
            pu_location_id: pu,
            do_location_id: do_,
            payment_type,
            fare_amount: fare,
            extra,
            mta_tax,
            tip_amount: tip,
            tolls_amount: tolls,
            improvement_surcharge: improvement,
            total_amount: total,
            congestion_surcharge: congestion,
        }
    }
}

impl Generator for Taxi {
    fn next_record(&mut self, now: Timestamp) -> Record {
        let trip = self.trip(now);
        let data = match self.format {
            TaxiFormat::Csv => trip.csv().into_bytes(),
            TaxiFormat::Json => to_json(&trip),
        };
        Record {
            key: trip.pu_location_id.to_string(),
            data,
        }
    }

    fn header(&self) -> Option<&'static str> {
        (self.format == TaxiFormat::Csv).then_some(HEADER)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use serde_json::Value;

    use super::*;

    fn now() -> Timestamp {
        "2026-12-06T10:30:00Z".parse().expect("timestamp")
    }

    fn generator(seed: u64, format: TaxiFormat) -> Taxi {
        Taxi::new(StdRng::seed_from_u64(seed), format)
    }

    #[test]
    fn csv_lines_have_one_field_per_header_column_and_add_up() {
        let columns: Vec<&str> = HEADER.split(',').collect();
        assert_eq!(columns.len(), 18);
        let mut g = generator(5, TaxiFormat::Csv);
        assert_eq!(g.header(), Some(HEADER));
        for _ in 0..2000 {
            let r = g.next_record(now());
            let line = String::from_utf8(r.data).expect("utf-8");
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), columns.len(), "{line}");
            assert_eq!(fields[2], "2026-12-06 10:30:00", "the trip ends now");
            assert!(fields[1] < fields[2], "pickup before dropoff: {line}");
            assert_eq!(r.key, fields[7], "keyed by pickup zone");
            let num = |i: usize| fields[i].parse::<f64>().expect("number");
            let parts: f64 = [10, 11, 12, 13, 14, 15, 17].iter().map(|&i| num(i)).sum();
            assert!(
                (parts - num(16)).abs() < 0.015,
                "total != sum of parts: {line}"
            );
            assert!(num(4) > 0.0 && num(10) >= 2.5);
            assert!((1..=263).contains(&(num(7) as u32)) && (1..=263).contains(&(num(8) as u32)));
            assert!(["N", "Y"].contains(&fields[6]));
        }
    }

    #[test]
    fn json_trips_use_the_csv_column_names() {
        let mut g = generator(9, TaxiFormat::Json);
        assert_eq!(g.header(), None);
        let v: Value = serde_json::from_slice(&g.next_record(now()).data).expect("json");
        let mut keys: Vec<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut want: Vec<&str> = HEADER.split(',').collect();
        keys.sort_unstable();
        want.sort_unstable();
        assert_eq!(keys, want);
        assert!(v["VendorID"].is_u64() && v["trip_distance"].is_f64());
        assert!(v["tpep_pickup_datetime"].is_string());
    }

    #[test]
    fn a_seed_gives_the_same_trips() {
        let run = |seed| {
            let mut g = generator(seed, TaxiFormat::Csv);
            (0..50).map(|_| g.next_record(now())).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }
}
