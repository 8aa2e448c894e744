// SPDX-License-Identifier: Apache-2.0
//! Log group tags: TagResource, UntagResource and ListTagsForResource (by the group's ARN,
//! with or without the trailing `:*`) and the older TagLogGroup, UntagLogGroup and
//! ListTagsLogGroup (by name). A group has at most 50 tags; keys are 1–128 and values 0–256
//! characters of letters, digits, separators and `_.:/=+-@` (the model's patterns).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::service::Logs;

/// Most tags on one resource.
pub const MAX_TAGS: usize = 50;
const KEY_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$";
const VALUE_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";

/// Whether a character is one the tag patterns allow.
pub fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

fn shown(tags: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// Checks tag keys and values against the model's patterns, with Coral's message format.
pub fn validate_tags(member: &str, tags: &BTreeMap<String, String>) -> Result<()> {
    let fail = |what: &str, pattern: &str| Error::InvalidTag {
        reason: format!(
            "1 validation error detected: Value '{}' at '{member}' failed to satisfy constraint: \
             Map {what} must satisfy constraint: [Member must satisfy regular expression pattern: \
             {pattern}]",
            shown(tags)
        ),
    };
    if tags.keys().any(|k| !k.chars().all(is_tag_char)) {
        return Err(fail("keys", KEY_PATTERN));
    }
    if tags.values().any(|v| !v.chars().all(is_tag_char)) {
        return Err(fail("value", VALUE_PATTERN));
    }
    Ok(())
}

impl Logs {
    /// The group a tagging ARN names.
    pub fn group_of_arn(&self, arn: &str) -> Result<String> {
        let name = self
            .name_in_arn(arn)
            .ok_or_else(|| Error::ResourceArnNotFound {
                arn: arn.to_owned(),
            })?;
        Ok(self.group(name)?.name.clone())
    }

    /// Adds or replaces tags of a group.
    pub async fn tag_log_group(&self, group: &str, tags: BTreeMap<String, String>) -> Result<()> {
        validate_tags("tags", &tags)?;
        let arn = self.group_arn(group);
        self.update_group(group, move |r| {
            let mut merged = r.tags.clone();
            merged.extend(tags);
            if merged.len() > MAX_TAGS {
                return Err(Error::TooManyTags { arn });
            }
            r.tags = merged;
            Ok(())
        })
        .await
    }

    /// Removes tags of a group (absent keys are fine).
    pub async fn untag_log_group(&self, group: &str, keys: Vec<String>) -> Result<()> {
        self.update_group(group, move |r| {
            for k in &keys {
                r.tags.remove(k);
            }
            Ok(())
        })
        .await
    }

    /// A group's tags.
    pub fn log_group_tags(&self, group: &str) -> Result<BTreeMap<String, String>> {
        Ok(self.group(group)?.record().tags.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_characters_follow_the_model() {
        let ok = BTreeMap::from([("team name".to_owned(), "a+b@c/d=e:f-g_h.i".to_owned())]);
        assert!(validate_tags("tags", &ok).is_ok());
        let bad = BTreeMap::from([("a*b".to_owned(), "v".to_owned())]);
        let e = validate_tags("tags", &bad).unwrap_err().to_string();
        assert!(
            e.starts_with("1 validation error detected: Value '{a*b=v}' at 'tags'"),
            "{e}"
        );
        let bad_value = BTreeMap::from([("k".to_owned(), "v#".to_owned())]);
        assert!(validate_tags("tags", &bad_value).is_err());
        assert!(validate_tags("tags", &BTreeMap::from([("k".to_owned(), String::new())])).is_ok());
    }
}
