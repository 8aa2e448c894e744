// SPDX-License-Identifier: Apache-2.0
//! A deserializer adapter that decodes structures only from maps, as AWS does.
//!
//! serde's derived `Deserialize` for a struct also accepts a sequence of its fields in order,
//! so without this `{"Records":[["ZGF0YQ==",null,"pk"]]}` would decode as a record and
//! `{"StreamModeDetails":["ON_DEMAND"]}` as a structure; and a scalar where a structure belongs
//! failed with serde's own text (`invalid type: string "x", expected struct FilterDto`). AWS
//! (Coral) answers both with a SerializationException in its own words.
//!
//! [`Strict`] wraps any self-describing deserializer (serde_json, ciborium) and everything
//! it hands out (map values, sequence elements, option contents, tagged values), so every
//! structure at any depth of every operation's input is checked, with no change to the DTOs.
//! A structure is decoded with `deserialize_any`: a map goes to the derived visitor, a list
//! is `Start of list found where not expected`, and any scalar is `Expected null` (the texts
//! AWS was recorded sending).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

const LIST_FOUND: &str = "Start of list found where not expected";
const SCALAR_FOUND: &str = "Expected null";

/// A deserializer whose structures must be maps.
pub struct Strict<D>(pub D);

/// A value decoded through [`Strict`]: `StrictValue<T>` is `Deserialize` whenever `T` is, for
/// decoders that only take a type (ciborium's deserializer is not public).
pub struct StrictValue<T>(pub T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for StrictValue<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(Strict(d)).map(StrictValue)
    }
}

/// Forwards `deserialize_*` methods to the inner deserializer with a wrapped visitor.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method($($arg,)* Wrap(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward! {
        deserialize_any(), deserialize_bool(), deserialize_i8(), deserialize_i16(),
        deserialize_i32(), deserialize_i64(), deserialize_i128(), deserialize_u8(),
        deserialize_u16(), deserialize_u32(), deserialize_u64(), deserialize_u128(),
        deserialize_f32(), deserialize_f64(), deserialize_char(), deserialize_str(),
        deserialize_string(), deserialize_bytes(), deserialize_byte_buf(),
        deserialize_option(), deserialize_unit(), deserialize_seq(), deserialize_map(),
        deserialize_identifier(), deserialize_ignored_any(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(StructOnly(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Passes every value to the inner visitor, wrapping the accessors it is given.
struct Wrap<V>(V);

/// Accepts only a map (or a tagged map) for a structure.
struct StructOnly<V>(V);

macro_rules! scalar_visits {
    ($wrapper:ident, $($method:ident: $ty:ty),*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                $wrapper::scalar(self, v)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Wrap<V> {
    fn scalar<T, E>(self, v: T) -> Result<V::Value, E>
    where
        T: Scalar<'de>,
        E: de::Error,
    {
        v.visit(self.0)
    }
}

impl<'de, V: Visitor<'de>> StructOnly<V> {
    fn scalar<T, E: de::Error>(self, _v: T) -> Result<V::Value, E> {
        Err(E::custom(SCALAR_FOUND))
    }
}

/// A scalar a visitor can be handed.
trait Scalar<'de> {
    fn visit<V: Visitor<'de>, E: de::Error>(self, v: V) -> Result<V::Value, E>;
}

macro_rules! scalar_impl {
    ($($ty:ty => $method:ident),*) => {
        $(
            impl<'de> Scalar<'de> for $ty {
                fn visit<V: Visitor<'de>, E: de::Error>(self, v: V) -> Result<V::Value, E> {
                    v.$method(self)
                }
            }
        )*
    };
}

scalar_impl!(bool => visit_bool, i8 => visit_i8, i16 => visit_i16, i32 => visit_i32,
    i64 => visit_i64, i128 => visit_i128, u8 => visit_u8, u16 => visit_u16, u32 => visit_u32,
    u64 => visit_u64, u128 => visit_u128, f32 => visit_f32, f64 => visit_f64,
    char => visit_char, String => visit_string, Vec<u8> => visit_byte_buf);

impl<'de> Scalar<'de> for &str {
    fn visit<V: Visitor<'de>, E: de::Error>(self, v: V) -> Result<V::Value, E> {
        v.visit_str(self)
    }
}

impl<'de> Scalar<'de> for &[u8] {
    fn visit<V: Visitor<'de>, E: de::Error>(self, v: V) -> Result<V::Value, E> {
        v.visit_bytes(self)
    }
}

/// Borrowed strings and bytes keep their lifetime.
struct Borrowed<T>(T);

impl<'de> Scalar<'de> for Borrowed<&'de str> {
    fn visit<V: Visitor<'de>, E: de::Error>(self, v: V) -> Result<V::Value, E> {
        v.visit_borrowed_str(self.0)
    }
}

impl<'de> Scalar<'de> for Borrowed<&'de [u8]> {
    fn visit<V: Visitor<'de>, E: de::Error>(self, v: V) -> Result<V::Value, E> {
        v.visit_borrowed_bytes(self.0)
    }
}

/// The visitor methods both wrappers implement the same way apart from scalars.
macro_rules! visitor_body {
    ($wrapper:ident) => {
        scalar_visits!($wrapper, visit_bool: bool, visit_i8: i8, visit_i16: i16,
            visit_i32: i32, visit_i64: i64, visit_i128: i128, visit_u8: u8, visit_u16: u16,
            visit_u32: u32, visit_u64: u64, visit_u128: u128, visit_f32: f32, visit_f64: f64,
            visit_char: char, visit_str: &str, visit_string: String, visit_bytes: &[u8],
            visit_byte_buf: Vec<u8>);

        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            $wrapper::scalar(self, Borrowed(v))
        }

        fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
            $wrapper::scalar(self, Borrowed(v))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            self.0.visit_map(StrictMap(map))
        }

        fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
            // ciborium presents a CBOR tag as an enum; the tagged value is checked too.
            self.0.visit_enum(StrictEnum(data))
        }
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    visitor_body!(Wrap);

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.0.visit_some(Strict(d))
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        self.0.visit_newtype_struct(Strict(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(StrictSeq(seq))
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for StructOnly<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a structure")
    }

    visitor_body!(StructOnly);

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        // A null structure inside a list or map: the derived visitor decides (it refuses).
        self.0.visit_none()
    }

    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        d.deserialize_any(self)
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<V::Value, D2::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<V::Value, A::Error> {
        Err(de::Error::custom(LIST_FOUND))
    }
}

struct StrictSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for StrictSeed<S> {
    type Value = S::Value;

    fn deserialize<D2: Deserializer<'de>>(self, d: D2) -> Result<S::Value, D2::Error> {
        self.0.deserialize(Strict(d))
    }
}

struct StrictMap<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(StrictSeed(seed))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.0.next_value_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct StrictSeq<A>(A);

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for StrictSeq<A> {
    type Error = A::Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        self.0.next_element_seed(StrictSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

struct StrictEnum<A>(A);

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for StrictEnum<A> {
    type Error = A::Error;
    type Variant = StrictVariant<A::Variant>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (v, variant) = self.0.variant_seed(StrictSeed(seed))?;
        Ok((v, StrictVariant(variant)))
    }
}

struct StrictVariant<A>(A);

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for StrictVariant<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.0.newtype_variant_seed(StrictSeed(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Wrap(visitor))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::json::{JList, JStr};

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Entry {
        data: Option<JStr>,
        key: Option<JStr>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Outer {
        records: Option<JList<Entry>>,
        details: Option<Entry>,
        name: Option<JStr>,
    }

    fn decode(body: &str) -> Result<Outer, String> {
        let mut de = serde_json::Deserializer::from_str(body);
        Outer::deserialize(Strict(&mut de)).map_err(|e| {
            let s = e.to_string();
            s[..s.rfind(" at line ").unwrap_or(s.len())].to_owned()
        })
    }

    #[test]
    fn maps_decode_as_before() {
        let o = decode(r#"{"Records":[{"Data":"x","Key":"k"}],"Details":{"Key":"d"},"Other":[1]}"#)
            .expect("decodes");
        assert_eq!(o.records.expect("records").0[0].key, Some(JStr("k".into())));
        assert_eq!(o.details.expect("details").key, Some(JStr("d".into())));
        let o = decode(r#"{"Details":null,"Name":"n"}"#).expect("decodes");
        assert_eq!(o.details, None);
        assert_eq!(o.name, Some(JStr("n".into())));
    }

    #[test]
    fn arrays_where_structures_belong_are_refused_at_any_depth() {
        assert_eq!(
            decode(r#"{"Records":[["ZGF0YQ==","pk"]]}"#).expect_err("nested"),
            LIST_FOUND
        );
        assert_eq!(
            decode(r#"{"Details":["ON_DEMAND"]}"#).expect_err("member"),
            LIST_FOUND
        );
        assert_eq!(decode(r#"["a", "b"]"#).expect_err("top level"), LIST_FOUND);
    }

    #[test]
    fn scalars_where_structures_belong_get_the_aws_text() {
        for body in [
            r#"{"Details":"x"}"#,
            r#"{"Details":5}"#,
            r#"{"Details":true}"#,
            "7",
        ] {
            assert_eq!(decode(body).expect_err(body), SCALAR_FOUND, "{body}");
        }
    }

    #[test]
    fn cbor_structures_are_checked_too() {
        let mut body = Vec::new();
        let v = ciborium::Value::Map(vec![(
            ciborium::Value::Text("Details".into()),
            ciborium::Value::Array(vec![ciborium::Value::Text("x".into())]),
        )]);
        ciborium::ser::into_writer(&v, &mut body).expect("encode");
        let e = crate::cbor::from_slice::<Outer>(&body).expect_err("refused");
        assert_eq!(e.as_deref(), Some(LIST_FOUND));
    }
}
