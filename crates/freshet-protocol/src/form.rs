// SPDX-License-Identifier: Apache-2.0
//! `application/x-www-form-urlencoded` parameters (Query-protocol requests): percent-decoding,
//! `+` as space, in order, duplicates kept. Linear in the input; invalid UTF-8 is replaced.

/// The parameters of a form body or query string.
pub fn parse(input: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(input)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn pairs_are_decoded_in_order() {
        assert_eq!(
            parse(b"Action=SendMessage&MessageBody=a+b%26c&Empty=&Flag"),
            [
                ("Action".to_owned(), "SendMessage".to_owned()),
                ("MessageBody".to_owned(), "a b&c".to_owned()),
                ("Empty".to_owned(), String::new()),
                ("Flag".to_owned(), String::new()),
            ]
        );
    }

    proptest! {
        #[test]
        fn any_bytes_parse(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&b);
        }
    }
}
