// SPDX-License-Identifier: Apache-2.0
//! Function names, ARNs and qualifiers as the Lambda API accepts them.
//!
//! Every operation that takes a `FunctionName` accepts a name (`my-function`), a name with a
//! qualifier (`my-function:1`, `my-function:prod`), a partial ARN
//! (`123456789012:function:my-function[:q]`) or a full ARN
//! (`arn:aws:lambda:us-east-1:123456789012:function:my-function[:q]`). [`FunctionRef::parse`]
//! reduces all of them to a name and an optional qualifier; the model's patterns (checked by
//! the operations' validation, with the pattern text AWS quotes) are matched by the `is_*`
//! functions here. Parsing is pure and property-tested.

/// The model pattern of `FunctionName` (CreateFunction and most operations), as AWS quotes it.
pub const FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";
/// The model pattern of `NamespacedFunctionName` (Get*, Delete*, Invoke).
pub const NAMESPACED_FUNCTION_NAME_PATTERN: &str = r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?";
/// The model pattern of `Alias`.
pub const ALIAS_PATTERN: &str = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)";
/// The model pattern of `Qualifier` (GetFunction, Invoke, ...).
pub const QUALIFIER_PATTERN: &str = "(|[a-zA-Z0-9$_-]+)";
/// The model pattern of `Version`.
pub const VERSION_PATTERN: &str = r"(\$LATEST|[0-9]+)";
/// The model pattern of `RoleArn`.
pub const ROLE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+";
/// The model pattern of `Handler`.
pub const HANDLER_PATTERN: &str = r"[^\s]+";
/// The model pattern of `TaggableResource`.
pub const TAGGABLE_RESOURCE_PATTERN: &str = r"arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)";

/// The version every function has: the unpublished, editable one.
pub const LATEST: &str = "$LATEST";

/// A function as an operation names it: the bare name and the qualifier it carried, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    /// The function's name.
    pub name: String,
    /// `$LATEST`, a version number or an alias name, when the reference carried one.
    pub qualifier: Option<String>,
    /// The region of an ARN reference.
    pub region: Option<String>,
    /// The account of an ARN or partial-ARN reference.
    pub account: Option<String>,
}

impl FunctionRef {
    /// Splits a `FunctionName` value. `None` when it is not a name, partial ARN or ARN with
    /// the right number of parts (the model pattern rejects it first in practice).
    pub fn parse(s: &str) -> Option<FunctionRef> {
        let parts: Vec<&str> = s.split(':').collect();
        let (region, account, rest): (Option<&str>, Option<&str>, &[&str]) =
            if parts.first() == Some(&"arn") {
                // arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
                if parts.len() < 7 || parts[2] != "lambda" || parts[5] != "function" {
                    return None;
                }
                if !is_partition(parts[1]) || !is_region(parts[3]) || !is_account(parts[4]) {
                    return None;
                }
                (Some(parts[3]), Some(parts[4]), &parts[6..])
            } else if let Some(i) = parts
                .iter()
                .position(|p| *p == "function")
                .filter(|i| i + 1 < parts.len())
            {
                // [<region>:][<account>:]function:<name>[:<qualifier>]
                let (region, account) = match &parts[..i] {
                    [] => (None, None),
                    [a] if is_account(a) => (None, Some(*a)),
                    [r] if is_region(r) => (Some(*r), None),
                    [r, a] if is_region(r) && is_account(a) => (Some(*r), Some(*a)),
                    _ => return None,
                };
                (region, account, &parts[i + 1..])
            } else {
                (None, None, &parts[..])
            };
        let (name, qualifier) = match rest {
            [name] => (*name, None),
            [name, q] => (*name, Some(*q)),
            _ => return None,
        };
        if !is_name_chars(name) || qualifier.is_some_and(|q| q.is_empty()) {
            return None;
        }
        Some(FunctionRef {
            name: name.to_owned(),
            qualifier: qualifier.map(str::to_owned),
            region: region.map(str::to_owned),
            account: account.map(str::to_owned),
        })
    }
}

/// `[a-zA-Z0-9-_]+`: the characters of a function name, alias or qualifier.
pub fn is_name_chars(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_partition(s: &str) -> bool {
    s.is_empty()
        || s.strip_prefix("aws")
            .is_some_and(|r| r.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'))
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// `[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let digit = |p: &str| p.len() == 1 && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [cc, area, n] => cc.len() == 2 && lower(cc) && lower(area) && digit(n),
        [cc, special, area, n] => {
            let special_ok = *special == "gov"
                || special
                    .strip_prefix("iso")
                    .is_some_and(|r| r.len() <= 1 && r.bytes().all(|b| b.is_ascii_lowercase()));
            cc.len() == 2 && lower(cc) && special_ok && lower(area) && digit(n)
        }
        _ => false,
    }
}

/// Matches [`FUNCTION_NAME_PATTERN`] (the whole value).
pub fn is_function_name(s: &str) -> bool {
    FunctionRef::parse(s).is_some_and(|r| {
        r.qualifier
            .as_deref()
            .is_none_or(|q| q == LATEST || is_name_chars(q))
    })
}

/// Matches [`NAMESPACED_FUNCTION_NAME_PATTERN`]: also dots in names and `$LATEST.PUBLISHED`.
pub fn is_namespaced_function_name(s: &str) -> bool {
    // Dots are allowed in the name part only; the ARN prefix has its own dots-free grammar.
    let undotted = s.replace('.', "_");
    let undotted = undotted.replace("$LATEST_PUBLISHED", LATEST);
    is_function_name(&undotted)
}

/// Matches [`ALIAS_PATTERN`]: name characters, not all digits.
pub fn is_alias(s: &str) -> bool {
    is_name_chars(s) && !s.bytes().all(|b| b.is_ascii_digit())
}

/// Matches [`QUALIFIER_PATTERN`].
pub fn is_qualifier(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'$' || b == b'_' || b == b'-')
}

/// Matches [`VERSION_PATTERN`].
pub fn is_version(s: &str) -> bool {
    s == LATEST || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

/// Matches [`HANDLER_PATTERN`].
pub fn is_handler(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
}

/// Matches [`ROLE_PATTERN`].
pub fn is_role(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(role) = rest.strip_prefix("role") else {
        return false;
    };
    let role = role.strip_prefix('/').unwrap_or(role);
    is_partition(partition)
        && is_account(account)
        && !role.is_empty()
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-/".contains(&b))
}

/// A Lambda resource ARN that tags can be attached to: a function (qualified or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taggable {
    /// `...:function:<name>[:<qualifier>]`.
    Function(FunctionRef),
    /// Another Lambda resource (event source mappings, code signing configs, ...).
    Other(String),
}

/// Parses a `TaggableResource`; `None` when it does not match [`TAGGABLE_RESOURCE_PATTERN`]
/// as far as functions and mappings go.
pub fn parse_taggable(s: &str) -> Option<Taggable> {
    if !s.starts_with("arn:aws") {
        return None;
    }
    if s.split(':').nth(5) == Some("function") {
        return FunctionRef::parse(s).map(Taggable::Function);
    }
    let parts: Vec<&str> = s.splitn(7, ':').collect();
    match parts.as_slice() {
        [_, p, "lambda", r, a, kind, _]
            if is_partition(p) && is_region(r) && is_account(a) && kind.contains('-') =>
        {
            Some(Taggable::Other(s.to_owned()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn r(name: &str, q: Option<&str>) -> Option<FunctionRef> {
        FunctionRef::parse(name).map(|mut f| {
            assert_eq!(f.qualifier.as_deref(), q);
            f.region = None;
            f.account = None;
            f.qualifier = None;
            f
        })
    }

    #[test]
    fn names_partial_arns_and_arns_reduce_to_a_name_and_qualifier() {
        let plain = Some(FunctionRef {
            name: "f".into(),
            qualifier: None,
            region: None,
            account: None,
        });
        assert_eq!(r("f", None), plain);
        assert_eq!(r("f:1", Some("1")), plain);
        assert_eq!(r("f:$LATEST", Some("$LATEST")), plain);
        assert_eq!(r("123456789012:function:f", None), plain);
        assert_eq!(r("123456789012:function:f:prod", Some("prod")), plain);
        assert_eq!(
            r("arn:aws:lambda:us-east-1:123456789012:function:f", None),
            plain
        );
        assert_eq!(
            r(
                "arn:aws:lambda:us-gov-west-1:123456789012:function:f:7",
                Some("7")
            ),
            plain
        );
        let full = FunctionRef::parse("arn:aws:lambda:eu-west-2:000000000000:function:f:a")
            .expect("parses");
        assert_eq!(full.region.as_deref(), Some("eu-west-2"));
        assert_eq!(full.account.as_deref(), Some("000000000000"));
    }

    #[test]
    fn malformed_references_do_not_parse() {
        for s in [
            "",
            "a b",
            "f:1:2",
            "f:",
            "arn:aws:lambda:us-east-1:123:function:f",
            "arn:aws:s3:us-east-1:123456789012:function:f",
            "arn:aws:lambda:us-east-1:123456789012:layer:f",
            "12345:function:f",
            "f/g",
        ] {
            assert!(FunctionRef::parse(s).is_none(), "{s}");
            assert!(!is_function_name(s), "{s}");
        }
    }

    #[test]
    fn patterns_match_what_the_model_allows() {
        assert!(is_alias("prod"));
        assert!(is_alias("v1-live"));
        assert!(!is_alias("123"));
        assert!(!is_alias("a.b"));
        assert!(is_version("$LATEST") && is_version("12") && !is_version("v1"));
        assert!(is_role("arn:aws:iam::123456789012:role/lambda-role"));
        assert!(is_role("arn:aws:iam::123456789012:role/service-role/x.y@z"));
        assert!(!is_role("arn:aws:iam::123:role/x"));
        assert!(!is_role("role"));
        assert!(is_handler("app.handler") && !is_handler("app handler") && !is_handler(""));
        assert!(is_namespaced_function_name("my.fn:$LATEST.PUBLISHED"));
        assert!(!is_function_name("my.fn"));
        assert!(matches!(
            parse_taggable("arn:aws:lambda:us-east-1:123456789012:function:f"),
            Some(Taggable::Function(_))
        ));
        assert!(parse_taggable("f").is_none());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = FunctionRef::parse(&s);
            let _ = is_namespaced_function_name(&s);
            let _ = parse_taggable(&s);
        }

        #[test]
        fn every_form_of_a_name_round_trips(
            name in "[a-zA-Z0-9_-]{1,64}",
            q in proptest::option::of("[a-zA-Z0-9_-]{1,20}"),
        ) {
            let suffix = q.as_ref().map(|q| format!(":{q}")).unwrap_or_default();
            for s in [
                format!("{name}{suffix}"),
                format!("123456789012:function:{name}{suffix}"),
                format!("arn:aws:lambda:us-east-1:123456789012:function:{name}{suffix}"),
            ] {
                let f = FunctionRef::parse(&s).expect("parses");
                prop_assert_eq!(&f.name, &name);
                prop_assert_eq!(&f.qualifier, &q);
            }
        }
    }
}
