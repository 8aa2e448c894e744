// SPDX-License-Identifier: Apache-2.0
//! The MD5 digests SQS returns with sends and receives, which the Java, .NET, Ruby and JS
//! SDKs verify (boto3 does not).
//!
//! MD5OfMessageAttributes (AWS developer guide, "Calculating the MD5 message digest for
//! message attributes", and the Java SDK v2 `MessageMD5ChecksumInterceptor`): sort the
//! attributes by name; for each append `u32 BE length + name`, `u32 BE length + DataType`
//! (custom suffix included), one transport byte (1 for a string value, 2 for a binary
//! value: the SDKs pick it by which value member is set, not by the DataType), then
//! `u32 BE length + value` (UTF-8 or raw bytes); the digest of the whole buffer in lower-case
//! hex. No attributes: no digest. MD5OfMessageSystemAttributes is the same algorithm over the
//! system attributes (only `AWSTraceHeader`, a String).

use std::collections::BTreeMap;

use md5::{Digest, Md5};

use crate::message::{AttributeData, AttributeValue};

/// Transport byte of a string value.
const TRANSPORT_STRING: u8 = 1;
/// Transport byte of a binary value.
const TRANSPORT_BINARY: u8 = 2;

/// The name of the one system attribute a sender may set.
pub const AWS_TRACE_HEADER: &str = "AWSTraceHeader";

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xF)]));
    }
    s
}

/// MD5OfMessageBody: the digest of the body's UTF-8 bytes.
pub fn md5_of_body(body: &str) -> String {
    hex(&Md5::digest(body.as_bytes()))
}

fn update_len_prefixed(h: &mut Md5, bytes: &[u8]) {
    // Lengths are bounded by the message size limit (1 MiB), far below u32::MAX; saturating
    // keeps this total rather than panicking on an impossible input.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    h.update(len.to_be_bytes());
    h.update(bytes);
}

fn digest_attributes<'a>(
    attrs: impl Iterator<Item = (&'a str, &'a str, &'a AttributeData)>,
) -> Option<String> {
    let mut h = Md5::new();
    let mut any = false;
    for (name, data_type, data) in attrs {
        any = true;
        update_len_prefixed(&mut h, name.as_bytes());
        update_len_prefixed(&mut h, data_type.as_bytes());
        match data {
            AttributeData::String(s) => {
                h.update([TRANSPORT_STRING]);
                update_len_prefixed(&mut h, s.as_bytes());
            }
            AttributeData::Binary(b) => {
                h.update([TRANSPORT_BINARY]);
                update_len_prefixed(&mut h, b);
            }
        }
    }
    any.then(|| hex(&h.finalize()))
}

/// MD5OfMessageAttributes, or `None` when there are no attributes (the member is then left
/// out of the response).
pub fn md5_of_attributes(attrs: &BTreeMap<String, AttributeValue>) -> Option<String> {
    // BTreeMap iterates in byte order, which equals the SDKs' String order for the
    // ASCII-only names attributes may have.
    digest_attributes(
        attrs
            .iter()
            .map(|(n, v)| (n.as_str(), v.data_type.as_str(), &v.data)),
    )
}

/// MD5OfMessageSystemAttributes for a message whose only system attribute is the X-Ray
/// trace header; `None` without one.
pub fn md5_of_system_attributes(trace_header: Option<&str>) -> Option<String> {
    let data = AttributeData::String(trace_header?.to_owned());
    digest_attributes(std::iter::once((AWS_TRACE_HEADER, "String", &data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(data_type: &str, v: &str) -> AttributeValue {
        AttributeValue {
            data_type: data_type.into(),
            data: AttributeData::String(v.into()),
        }
    }

    #[test]
    fn body_digest_matches_the_reference_vector() {
        assert_eq!(md5_of_body("hi"), "49f68a5c8493ec2c0bf489821c21fc3b");
        assert_eq!(md5_of_body("msg"), "6e2baaf3b97dbeef01c0043275f9a0e7");
    }

    #[test]
    fn one_string_attribute_matches_the_reference_vector() {
        let attrs = BTreeMap::from([("a".to_owned(), s("String", "v"))]);
        assert_eq!(
            md5_of_attributes(&attrs).as_deref(),
            Some("a18cbb58171ebf4ce88d9fb787f9210b")
        );
    }

    #[test]
    fn attributes_recorded_from_aws_give_the_recorded_digests() {
        // LocalStack's AWS-recorded snapshot (test_receive_message_message_attribute_names_filters).
        let all = BTreeMap::from([
            ("General".to_owned(), s("String", "Kenobi")),
            ("Hello".to_owned(), s("String", "There")),
            ("Help.Me".to_owned(), s("String", "Me")),
        ]);
        assert_eq!(
            md5_of_attributes(&all).as_deref(),
            Some("4c360f3fdafd970e05fae2f149d997f5")
        );
        let foo = BTreeMap::from([("Foo".to_owned(), s("String", "Bar"))]);
        assert_eq!(
            md5_of_attributes(&foo).as_deref(),
            Some("ae7155c6026991b6d54b11589678bf9c")
        );
    }

    #[test]
    fn binary_attributes_use_transport_byte_two() {
        // AWS-recorded: attr1 Binary b"traceparent\x1e00-7740...-01" -> 8cbe4db1...
        let v = b"traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01".to_vec();
        let attrs = BTreeMap::from([(
            "attr1".to_owned(),
            AttributeValue {
                data_type: "Binary".into(),
                data: AttributeData::Binary(v),
            },
        )]);
        assert_eq!(
            md5_of_attributes(&attrs).as_deref(),
            Some("8cbe4db156db8a94db8b801b7addb984")
        );
    }

    #[test]
    fn no_attributes_means_no_digest() {
        assert_eq!(md5_of_attributes(&BTreeMap::new()), None);
        assert_eq!(md5_of_system_attributes(None), None);
    }
}
