// SPDX-License-Identifier: Apache-2.0
//! `freshet demo stock-trades`: stock trades in two published shapes.
//!
//! - `kds` (default): the `StockTrade` JSON of the Kinesis Data Streams tutorial "Process
//!   real-time stock data using KPL and KCL" (`{"tickerSymbol": "AMZN", "tradeType": "BUY",
//!   "price": 395.87, "quantity": 16, "id": 3567129045}`), drawn the way its
//!   `StockTradeGenerator` draws them: one of its 25 tickers at random, a price within 20% of
//!   that ticker's mean, SELL with probability 0.4, 1 to 10,000 shares, ids counting from 1.
//!   Partition key: the ticker symbol, as the tutorial's writer uses.
//! - `firehose`: the Firehose console's "Test with demo data" records
//!   (`{"TICKER_SYMBOL":"QXZ","SECTOR":"HEALTHCARE","CHANGE":-0.05,"PRICE":84.51}`): made-up
//!   tickers with a sector each, whose prices walk by CHANGE from record to record.
//!   Partition key: the ticker symbol.

use clap::ValueEnum;
use jiff::Timestamp;
use rand::Rng as _;
use rand::rngs::StdRng;
use serde::Serialize;

use super::records::{Generator, Record, cents};

/// The tutorial's tickers and mean prices (`StockTradeGenerator`).
const TUTORIAL_STOCKS: [(&str, f64); 25] = [
    ("AAPL", 119.72),
    ("XOM", 91.56),
    ("GOOG", 527.83),
    ("BRK.A", 223_999.88),
    ("MSFT", 42.36),
    ("WFC", 54.21),
    ("JNJ", 99.78),
    ("WMT", 85.91),
    ("CHL", 66.96),
    ("GE", 24.64),
    ("NVS", 102.46),
    ("PG", 85.05),
    ("JPM", 57.82),
    ("RDS.A", 66.72),
    ("CVX", 110.43),
    ("PFE", 33.07),
    ("FB", 74.44),
    ("VZ", 49.09),
    ("PTR", 111.08),
    ("BUD", 120.39),
    ("ORCL", 43.40),
    ("KO", 41.23),
    ("T", 34.64),
    ("DIS", 101.73),
    ("AMZN", 370.56),
];
/// Largest deviation of a trade's price from its ticker's mean, as a fraction.
const MAX_DEVIATION: f64 = 0.2;
/// Most shares in one trade.
const MAX_QUANTITY: u64 = 10_000;
/// Probability that a trade is a SELL.
const PROBABILITY_SELL: f64 = 0.4;

/// Made-up tickers in the Firehose demo data's style, with their sector and starting price.
const DEMO_STOCKS: [(&str, &str, f64); 16] = [
    ("QXZ", "HEALTHCARE", 84.51),
    ("ASD", "FINANCIAL", 62.18),
    ("BAC", "FINANCIAL", 17.95),
    ("CRM", "TECHNOLOGY", 144.20),
    ("DFG", "ENERGY", 33.71),
    ("HJK", "TECHNOLOGY", 5.06),
    ("IOP", "RETAIL", 112.04),
    ("JYB", "HEALTHCARE", 71.40),
    ("KFU", "ENERGY", 46.83),
    ("MJN", "RETAIL", 28.19),
    ("NGC", "ENERGY", 9.95),
    ("PPL", "HEALTHCARE", 23.45),
    ("QAZ", "FINANCIAL", 197.37),
    ("SAC", "ENERGY", 60.02),
    ("WAS", "RETAIL", 38.88),
    ("XTC", "TECHNOLOGY", 120.35),
];

/// Which published record shape to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum StockFormat {
    /// The Kinesis Data Streams tutorial's StockTrade JSON.
    #[default]
    Kds,
    /// The Firehose console's demo data (TICKER_SYMBOL, SECTOR, CHANGE, PRICE).
    Firehose,
}

/// The tutorial's `StockTrade`, fields in its JSON order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StockTrade<'a> {
    ticker_symbol: &'a str,
    trade_type: &'a str,
    price: f64,
    quantity: u64,
    id: u64,
}

/// One Firehose demo data record.
#[derive(Debug, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
struct Tick<'a> {
    ticker_symbol: &'a str,
    sector: &'a str,
    change: f64,
    price: f64,
}

/// Generates stock trades or ticks.
pub struct StockTrades {
    rng: StdRng,
    format: StockFormat,
    next_id: u64,
    /// Current price of each of [`DEMO_STOCKS`].
    prices: Vec<f64>,
}

impl StockTrades {
    /// A generator of `format` records drawing from `rng`.
    pub fn new(rng: StdRng, format: StockFormat) -> StockTrades {
        StockTrades {
            rng,
            format,
            next_id: 1,
            prices: DEMO_STOCKS.iter().map(|s| s.2).collect(),
        }
    }

    fn trade(&mut self) -> Record {
        let (ticker, mean) = TUTORIAL_STOCKS[self.rng.random_range(0..TUTORIAL_STOCKS.len())];
        let deviation = (self.rng.random::<f64>() - 0.5) * 2.0 * MAX_DEVIATION;
        let trade_type = if self.rng.random::<f64>() < PROBABILITY_SELL {
            "SELL"
        } else {
            "BUY"
        };
        let trade = StockTrade {
            ticker_symbol: ticker,
            trade_type,
            price: cents(mean * (1.0 + deviation)),
            quantity: self.rng.random_range(1..=MAX_QUANTITY),
            id: self.next_id,
        };
        self.next_id += 1;
        Record {
            key: ticker.to_owned(),
            data: to_json(&trade),
        }
    }

    fn tick(&mut self) -> Record {
        let i = self.rng.random_range(0..DEMO_STOCKS.len());
        let (ticker, sector, _) = DEMO_STOCKS[i];
        let old = self.prices[i];
        // A step of up to 1% either way, never below a cent.
        let change = cents(old * self.rng.random_range(-0.01..=0.01));
        let price = cents((old + change).max(0.01));
        self.prices[i] = price;
        let tick = Tick {
            ticker_symbol: ticker,
            sector,
            change: cents(price - old),
            price,
        };
        Record {
            key: ticker.to_owned(),
            data: to_json(&tick),
        }
    }
}

impl Generator for StockTrades {
    fn next_record(&mut self, _now: Timestamp) -> Record {
        match self.format {
            StockFormat::Kds => self.trade(),
            StockFormat::Firehose => self.tick(),
        }
    }
}

/// Serializes a record struct; plain structs of strings and numbers always serialize.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;
    use serde_json::Value;

    use super::*;

    fn records(format: StockFormat, seed: u64, n: usize) -> Vec<Record> {
        let mut g = StockTrades::new(StdRng::seed_from_u64(seed), format);
        (0..n)
            .map(|_| g.next_record(Timestamp::UNIX_EPOCH))
            .collect()
    }

    #[test]
    fn trades_have_the_tutorials_fields_in_its_order_and_ranges() {
        for (i, r) in records(StockFormat::Kds, 7, 2000).iter().enumerate() {
            let text = String::from_utf8(r.data.clone()).expect("utf-8");
            assert!(text.starts_with("{\"tickerSymbol\":"), "{text}");
            let v: Value = serde_json::from_str(&text).expect("json");
            let mut keys: Vec<&str> = v
                .as_object()
                .expect("object")
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            let mut want = vec!["id", "price", "quantity", "tickerSymbol", "tradeType"];
            want.sort_unstable();
            assert_eq!(keys, want);
            let ticker = v["tickerSymbol"].as_str().expect("ticker");
            assert_eq!(r.key, ticker, "keyed by ticker");
            let mean = TUTORIAL_STOCKS
                .iter()
                .find(|s| s.0 == ticker)
                .expect("known")
                .1;
            let price = v["price"].as_f64().expect("price");
            assert!(
                (price - mean).abs() <= mean * MAX_DEVIATION + 0.01,
                "{price} vs {mean}"
            );
            assert!(["BUY", "SELL"].contains(&v["tradeType"].as_str().expect("type")));
            let q = v["quantity"].as_u64().expect("quantity");
            assert!((1..=MAX_QUANTITY).contains(&q));
            assert_eq!(v["id"].as_u64(), Some(i as u64 + 1));
        }
    }

    #[test]
    fn about_four_trades_in_ten_are_sells() {
        let sells = records(StockFormat::Kds, 1, 10_000)
            .iter()
            .filter(|r| String::from_utf8_lossy(&r.data).contains("\"SELL\""))
            .count();
        assert!((3_500..4_500).contains(&sells), "{sells} sells");
    }

    #[test]
    fn firehose_ticks_walk_by_their_change() {
        let mut last: std::collections::HashMap<String, f64> =
            DEMO_STOCKS.iter().map(|s| (s.0.to_owned(), s.2)).collect();
        for r in records(StockFormat::Firehose, 3, 1000) {
            let v: Value = serde_json::from_slice(&r.data).expect("json");
            let ticker = v["TICKER_SYMBOL"].as_str().expect("ticker").to_owned();
            assert!(v["SECTOR"].is_string());
            let (change, price) = (
                v["CHANGE"].as_f64().expect("c"),
                v["PRICE"].as_f64().expect("p"),
            );
            let prev = last.insert(ticker, price).expect("known ticker");
            assert!(
                (prev + change - price).abs() < 0.005,
                "{prev} + {change} != {price}"
            );
            assert!(price >= 0.01);
        }
    }

    #[test]
    fn a_seed_gives_the_same_records_and_another_seed_others() {
        for format in [StockFormat::Kds, StockFormat::Firehose] {
            assert_eq!(records(format, 42, 100), records(format, 42, 100));
            assert_ne!(records(format, 42, 100), records(format, 43, 100));
        }
    }
}
