// SPDX-License-Identifier: Apache-2.0
//! Bucket naming rules of general purpose buckets (AWS "Bucket naming rules"): 3-63
//! characters of lower-case letters, digits, dots and hyphens; begins and ends with a letter
//! or digit; no two adjacent dots; not an IPv4 address; not the reserved prefixes
//! `xn--`, `sthree-`, `amzn-s3-demo-` nor suffixes `-s3alias`, `--ol-s3`, `.mrap`,
//! `--x-s3`, `--table-s3`.

/// Whether `name` is a valid bucket name.
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return false;
    }
    let ok_char = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-';
    if !b.iter().all(ok_char) {
        return false;
    }
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    if name.contains("..") {
        return false;
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return false;
    }
    const PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    !PREFIXES.iter().any(|p| name.starts_with(p)) && !SUFFIXES.iter().any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_follow_the_aws_rules() {
        for good in ["abc", "my-bucket", "my.bucket.1", "a1b", &"a".repeat(63)] {
            assert!(valid_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            "under_score",
            "xn--abc",
            "sthree-abc",
            "abc-s3alias",
            "abc--ol-s3",
            "abc.mrap",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn valid_names_are_lowercase_dns_labels(name in "\\PC{0,70}") {
            if valid_bucket_name(&name) {
                prop_assert!((3..=63).contains(&name.len()));
                prop_assert!(name.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-'));
                prop_assert!(!name.contains(".."));
            }
        }

        #[test]
        fn generated_simple_names_are_valid(name in "[a-z0-9][a-z0-9-]{1,61}[a-z0-9]") {
            prop_assume!(!name.starts_with("xn--") && !name.starts_with("sthree-") && !name.ends_with("-s3alias") && !name.ends_with("--x-s3") && !name.ends_with("--ol-s3") && !name.ends_with("--table-s3") && !name.starts_with("amzn-s3-demo-"));
            prop_assert!(valid_bucket_name(&name));
        }
    }
}
