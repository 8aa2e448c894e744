// SPDX-License-Identifier: Apache-2.0
//! `application/x-www-form-urlencoded` decoding for Query bodies and GET query strings.

use super::error::QueryError;

/// Decodes a form body or query string into (name, value) pairs, in order.
///
/// Pairs are split on `&`; empty pieces are skipped; a piece without `=` is a name with an
/// empty value. `+` is a space and `%XX` a byte; the decoded bytes must be UTF-8. Every pair
/// is kept, duplicates included: [`super::decode_request`] takes the first occurrence of a
/// name, so a caller that concatenates the URL's query string and then the body gives the
/// URL precedence. Work and memory are linear in `body.len()`.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, QueryError> {
    let mut pairs = Vec::new();
    for piece in body.split(|&b| b == b'&') {
        if piece.is_empty() {
            continue;
        }
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(eq) => (&piece[..eq], &piece[eq + 1..]),
            None => (piece, &[][..]),
        };
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(pairs)
}

fn decode_component(raw: &[u8]) -> Result<String, QueryError> {
    // Fast path: nothing to decode.
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        return String::from_utf8(raw.to_vec()).map_err(|_| not_utf8());
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex);
                let lo = raw.get(i + 2).copied().and_then(hex);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(QueryError::MalformedQueryString {
                        reason: "A % is not followed by two hexadecimal digits.",
                    });
                };
                out.push(hi << 4 | lo);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| not_utf8())
}

fn not_utf8() -> QueryError {
    QueryError::MalformedQueryString {
        reason: "A decoded parameter is not valid UTF-8.",
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn plus_is_a_space_and_percent_escapes_are_bytes() {
        let got = parse_form(b"Action=SendMessage&MessageBody=a+b%2Bc%0D%0A%C3%A9&Empty=&Bare")
            .expect("parses");
        assert_eq!(
            got,
            pairs(&[
                ("Action", "SendMessage"),
                ("MessageBody", "a b+c\r\né"),
                ("Empty", ""),
                ("Bare", "")
            ])
        );
    }

    #[test]
    fn empty_pieces_are_skipped_and_duplicates_kept_in_order() {
        let got = parse_form(b"&&A=1&&A=2&").expect("parses");
        assert_eq!(got, pairs(&[("A", "1"), ("A", "2")]));
        assert_eq!(parse_form(b"").expect("parses"), vec![]);
    }

    #[test]
    fn a_value_may_contain_equals_signs() {
        let got = parse_form(b"Body=a=b==").expect("parses");
        assert_eq!(got, pairs(&[("Body", "a=b==")]));
    }

    #[test]
    fn bad_escapes_and_invalid_utf8_are_malformed_query_strings() {
        for bad in [
            &b"A=%zz"[..],
            b"A=%4",
            b"A=%",
            b"A=%C3",
            b"A=\xff",
            b"%ff=1",
        ] {
            let err = parse_form(bad).expect_err("rejected");
            assert_eq!(err.code(), "MalformedQueryString", "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_form_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_form(&body);
        }

        #[test]
        fn percent_encoding_every_byte_round_trips(name in "[A-Za-z.0-9]{1,20}", value in "\\PC{0,64}") {
            let mut body = format!("{name}=");
            for b in value.as_bytes() {
                body.push_str(&format!("%{b:02X}"));
            }
            let got = parse_form(body.as_bytes()).expect("parses");
            prop_assert_eq!(got, vec![(name, value)]);
        }
    }
}
