// SPDX-License-Identifier: Apache-2.0
//! What names a metric: namespace, metric name and dimensions ([`MetricKey`]), and the units
//! AWS knows ([`Unit`]).
//!
//! Dimensions are kept sorted by name (then value), so two keys naming the same metric with
//! dimensions in another order are equal; CloudWatch matches dimensions as a set.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The most dimensions a metric may have (PutMetricData refuses more).
pub const MAX_DIMENSIONS: usize = 30;

/// One dimension: a name/value pair that is part of a metric's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dimension {
    /// The dimension's name, e.g. `StreamName`.
    pub name: String,
    /// Its value, e.g. `orders`.
    pub value: String,
}

/// A metric's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MetricKey {
    /// E.g. `AWS/Kinesis`.
    pub namespace: String,
    /// E.g. `IncomingRecords`.
    pub name: String,
    /// Sorted by name, then value.
    pub dimensions: Vec<Dimension>,
}

impl MetricKey {
    /// A key with `dimensions` in any order.
    pub fn new<N, V>(
        namespace: impl Into<String>,
        name: impl Into<String>,
        dimensions: impl IntoIterator<Item = (N, V)>,
    ) -> Self
    where
        N: Into<String>,
        V: Into<String>,
    {
        let mut dimensions: Vec<Dimension> = dimensions
            .into_iter()
            .map(|(n, v)| Dimension {
                name: n.into(),
                value: v.into(),
            })
            .collect();
        dimensions.sort();
        Self {
            namespace: namespace.into(),
            name: name.into(),
            dimensions,
        }
    }

    /// The value of dimension `name`, if the key has it.
    pub fn dimension(&self, name: &str) -> Option<&str> {
        self.dimensions
            .iter()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
    }
}

impl fmt::Display for MetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.namespace, self.name)?;
        for d in &self.dimensions {
            write!(f, " {}={}", d.name, d.value)?;
        }
        Ok(())
    }
}

macro_rules! units {
    ($($variant:ident => $text:literal),* $(,)?) => {
        /// AWS's `StandardUnit`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub enum Unit {
            $(
                #[doc = $text]
                $variant,
            )*
            /// `None`: no unit (the default).
            #[default]
            None,
        }

        impl Unit {
            /// Every unit, in the model's order, `None` last.
            pub const ALL: &'static [Unit] = &[$(Unit::$variant,)* Unit::None];

            /// AWS's spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Unit::$variant => $text,)*
                    Unit::None => "None",
                }
            }

            /// The unit AWS spells `text` (case-sensitive, as AWS is).
            pub fn parse(text: &str) -> Option<Unit> {
                match text {
                    $($text => Some(Unit::$variant),)*
                    "None" => Some(Unit::None),
                    _ => None,
                }
            }
        }
    };
}

units! {
    Seconds => "Seconds",
    Microseconds => "Microseconds",
    Milliseconds => "Milliseconds",
    Bytes => "Bytes",
    Kilobytes => "Kilobytes",
    Megabytes => "Megabytes",
    Gigabytes => "Gigabytes",
    Terabytes => "Terabytes",
    Bits => "Bits",
    Kilobits => "Kilobits",
    Megabits => "Megabits",
    Gigabits => "Gigabits",
    Terabits => "Terabits",
    Percent => "Percent",
    Count => "Count",
    BytesPerSecond => "Bytes/Second",
    KilobytesPerSecond => "Kilobytes/Second",
    MegabytesPerSecond => "Megabytes/Second",
    GigabytesPerSecond => "Gigabytes/Second",
    TerabytesPerSecond => "Terabytes/Second",
    BitsPerSecond => "Bits/Second",
    KilobitsPerSecond => "Kilobits/Second",
    MegabitsPerSecond => "Megabits/Second",
    GigabitsPerSecond => "Gigabits/Second",
    TerabitsPerSecond => "Terabits/Second",
    CountPerSecond => "Count/Second",
}

impl Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Unit::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown unit {text}")))
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_dimensions_in_another_order_are_equal() {
        let a = MetricKey::new("N", "M", [("b", "2"), ("a", "1")]);
        let b = MetricKey::new("N", "M", [("a", "1"), ("b", "2")]);
        assert_eq!(a, b);
        assert_eq!(a.dimension("b"), Some("2"));
        assert_eq!(a.to_string(), "N M a=1 b=2");
    }

    #[test]
    fn every_unit_parses_back_from_its_spelling() {
        assert_eq!(Unit::ALL.len(), 27);
        for u in Unit::ALL {
            assert_eq!(Unit::parse(u.as_str()), Some(*u));
        }
        assert_eq!(Unit::parse("bytes"), None);
    }
}
