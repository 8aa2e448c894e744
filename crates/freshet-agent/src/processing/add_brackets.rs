// SPDX-License-Identifier: Apache-2.0
//! ADDBRACKETS: the agent's example converter, which wraps the record in `{` and `}` (its
//! trailing newline included, so `a\n` becomes `{a\n}`).

use super::java;

/// Converts one record.
pub fn convert(input: &[u8], out: &mut Vec<u8>) {
    out.push(b'{');
    out.extend_from_slice(java::decode(input).as_bytes());
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_wrapped_in_braces_as_in_the_agents_test() {
        let mut out = Vec::new();
        convert(b"hello there!! :)", &mut out);
        assert_eq!(out, b"{hello there!! :)}");
    }

    #[test]
    fn invalid_utf8_is_replaced_as_java_decodes_it() {
        let mut out = Vec::new();
        convert(b"a\xffb", &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "{a\u{fffd}b}");
    }
}
