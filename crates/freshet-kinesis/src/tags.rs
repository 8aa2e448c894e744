// SPDX-License-Identifier: Apache-2.0
//! Tags of streams (AddTagsToStream, RemoveTagsFromStream, ListTagsForStream, CreateStream's
//! Tags) and of any ARN-addressed resource (TagResource, UntagResource, ListTagsForResource).
//!
//! AWS's rules, with its recorded messages: keys and values use Unicode letters, digits, white
//! space and `_ . / = + - @ :`; `%` is in the documented alphabet yet refused with a different
//! message; a resource holds at most 50 tags (the message says 10, as AWS's does); adding an
//! existing key overwrites it; removing a missing key is not an error.

use std::collections::BTreeMap;

use crate::model::StreamRef;
use crate::resource::ResourceFields;
use crate::{Error, Streams};

/// Most tags one resource may carry.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// Default and largest ListTagsForStream page.
pub const LIST_TAGS_MAX: u32 = 50;

/// How a tag string breaks the rules, in the order AWS checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TagCharacters {
    /// Only allowed characters.
    Valid,
    /// A character outside the alphabet.
    Invalid,
    /// A `%`.
    Percent,
}

/// "White space" in AWS's text means the space character: tabs and line breaks are refused
/// (recorded).
fn allowed(c: char) -> bool {
    c.is_alphanumeric() || " _./=+-@%:".contains(c)
}

/// Classifies a set of tag keys and values: any invalid character anywhere wins over `%`.
pub(crate) fn check_characters<'a>(
    strings: impl IntoIterator<Item = &'a str> + Clone,
) -> TagCharacters {
    if strings.clone().into_iter().any(|s| !s.chars().all(allowed)) {
        TagCharacters::Invalid
    } else if strings.into_iter().any(|s| s.contains('%')) {
        TagCharacters::Percent
    } else {
        TagCharacters::Valid
    }
}

/// One page of tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPage {
    /// Tags in key order.
    pub tags: Vec<(String, String)>,
    /// Whether more follow the page.
    pub has_more: bool,
}

impl Streams {
    /// The error for tags that break the character rules when `action`ing them on `stream`.
    fn tag_chars_error(
        &self,
        verdict: TagCharacters,
        action: &'static str,
        stream: &str,
    ) -> Option<Error> {
        match verdict {
            TagCharacters::Valid => None,
            TagCharacters::Invalid => Some(Error::TagsInvalidCharacters),
            TagCharacters::Percent => Some(Error::TagsIllegalCharacters {
                action,
                stream: stream.to_owned(),
                account: self.inner.opts.account_id.clone(),
            }),
        }
    }

    /// Checks tags about to be set on `stream` (which holds `existing`), as AddTagsToStream,
    /// TagResource and CreateStream do.
    pub(crate) fn check_new_tags(
        &self,
        stream: &str,
        existing: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let strings = tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]);
        if let Some(e) = self.tag_chars_error(check_characters(strings), "add tags to", stream) {
            return Err(e);
        }
        let added = tags.keys().filter(|k| !existing.contains_key(*k)).count();
        if existing.len() + added > MAX_TAGS_PER_RESOURCE {
            return Err(Error::TooManyTags {
                stream: stream.to_owned(),
                account: self.inner.opts.account_id.clone(),
            });
        }
        Ok(())
    }

    /// AddTagsToStream.
    pub async fn add_tags_to_stream(
        &self,
        r: &StreamRef,
        tags: BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(r)?;
        self.tag_resource_locked(&crate::resource::Resource::Stream(stream), tags)
    }

    /// RemoveTagsFromStream.
    pub async fn remove_tags_from_stream(
        &self,
        r: &StreamRef,
        keys: &[String],
    ) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let stream = self.stream(r)?;
        self.untag_resource_locked(&crate::resource::Resource::Stream(stream), keys)
    }

    /// ListTagsForStream: tags in key order after `exclusive_start_key`, at most `limit`.
    pub fn list_tags_for_stream(
        &self,
        r: &StreamRef,
        exclusive_start_key: Option<&str>,
        limit: Option<u32>,
    ) -> Result<TagPage, Error> {
        let stream = self.stream(r)?;
        let tags = stream.record().tags.clone();
        let limit = limit.unwrap_or(LIST_TAGS_MAX).min(LIST_TAGS_MAX) as usize;
        let mut page: Vec<(String, String)> = tags
            .into_iter()
            .filter(|(k, _)| exclusive_start_key.is_none_or(|s| k.as_str() > s))
            .collect();
        let has_more = page.len() > limit;
        page.truncate(limit);
        Ok(TagPage {
            tags: page,
            has_more,
        })
    }

    /// TagResource: adds or overwrites tags of a stream or consumer.
    pub async fn tag_resource(
        &self,
        arn: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let resource = self.resolve_resource(arn)?;
        self.tag_resource_locked(&resource, tags)
    }

    /// UntagResource: removes tags of a stream or consumer; missing keys are ignored.
    pub async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let resource = self.resolve_resource(arn)?;
        self.untag_resource_locked(&resource, keys)
    }

    /// ListTagsForResource: every tag of a stream or consumer, in key order.
    pub fn list_tags_for_resource(&self, arn: &str) -> Result<Vec<(String, String)>, Error> {
        Ok(self.resolve_resource(arn)?.tags().into_iter().collect())
    }

    fn tag_resource_locked(
        &self,
        resource: &crate::resource::Resource,
        tags: BTreeMap<String, String>,
    ) -> Result<(), Error> {
        let name = resource.stream().name.clone();
        self.update_resource(resource, |f: ResourceFields<'_>| {
            self.check_new_tags(&name, f.tags, &tags)?;
            f.tags.extend(tags);
            Ok(())
        })
    }

    fn untag_resource_locked(
        &self,
        resource: &crate::resource::Resource,
        keys: &[String],
    ) -> Result<(), Error> {
        let name = resource.stream().name.clone();
        let verdict = check_characters(keys.iter().map(String::as_str));
        if let Some(e) = self.tag_chars_error(verdict, "remove tags from", &name) {
            return Err(e);
        }
        self.update_resource(resource, |f: ResourceFields<'_>| {
            for k in keys {
                f.tags.remove(k);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_alphabet_and_its_percent_quirk() {
        assert_eq!(
            check_characters(["a b_c.d/e=f+g-h@i:j", "Ünïcødé 9"]),
            TagCharacters::Valid
        );
        assert_eq!(check_characters([""]), TagCharacters::Valid);
        assert_eq!(check_characters(["50%"]), TagCharacters::Percent);
        assert_eq!(check_characters(["a*b"]), TagCharacters::Invalid);
        for refused in ["abc;def", "abc\tdef", "abc\ndef", "abc,def"] {
            assert_eq!(
                check_characters([refused]),
                TagCharacters::Invalid,
                "{refused:?}"
            );
        }
        // An invalid character anywhere is reported before a `%` anywhere.
        assert_eq!(check_characters(["50%", "a#"]), TagCharacters::Invalid);
    }

    proptest! {
        #[test]
        fn classification_never_panics(v in proptest::collection::vec("\\PC*", 0..5)) {
            let _ = check_characters(v.iter().map(String::as_str));
        }
    }
}
