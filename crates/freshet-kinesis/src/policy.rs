// SPDX-License-Identifier: Apache-2.0
//! Resource-based policies: PutResourcePolicy, GetResourcePolicy, DeleteResourcePolicy, for
//! streams and (once wired) consumers.
//!
//! Freshet stores and returns the document but does not evaluate it: requests are not
//! authorized. The document must be a JSON object with a `Statement` (an object or a
//! non-empty list of objects) and at most [`MAX_POLICY_BYTES`], the IAM size limit of
//! resource-based policies.

use crate::{Error, Streams};

/// Largest policy document accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// What GetResourcePolicy answers for a resource without a policy (AWS-recorded).
pub const EMPTY_POLICY: &str = "{}";

/// Checks that `policy` looks like an IAM policy document.
pub(crate) fn check_policy(policy: &str) -> Result<(), Error> {
    if policy.len() > MAX_POLICY_BYTES {
        return Err(Error::PolicyTooLarge {
            size: policy.len(),
            limit: MAX_POLICY_BYTES,
        });
    }
    let invalid = |reason: &str| Error::InvalidPolicy {
        reason: reason.to_owned(),
    };
    let doc: serde_json::Value = serde_json::from_str(policy)
        .map_err(|e| invalid(&format!("the policy is not valid JSON ({e}).")))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| invalid("the policy must be a JSON object."))?;
    match obj.get("Statement") {
        Some(serde_json::Value::Object(_)) => Ok(()),
        Some(serde_json::Value::Array(list))
            if !list.is_empty() && list.iter().all(serde_json::Value::is_object) =>
        {
            Ok(())
        }
        Some(_) => Err(invalid(
            "Statement must be an object or a non-empty list of objects.",
        )),
        None => Err(invalid("the policy has no Statement.")),
    }
}

impl Streams {
    /// PutResourcePolicy: attaches (or replaces) the policy of a stream or consumer.
    pub async fn put_resource_policy(&self, arn: &str, policy: &str) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let resource = self.resolve_resource(arn)?;
        check_policy(policy)?;
        self.update_resource(&resource, |f| {
            *f.policy = Some(policy.to_owned());
            Ok(())
        })
    }

    /// GetResourcePolicy: the policy, or `{}` when none is attached.
    pub fn get_resource_policy(&self, arn: &str) -> Result<String, Error> {
        Ok(self
            .resolve_resource(arn)?
            .policy()
            .unwrap_or_else(|| EMPTY_POLICY.to_owned()))
    }

    /// DeleteResourcePolicy: removes the policy; removing none is not an error.
    pub async fn delete_resource_policy(&self, arn: &str) -> Result<(), Error> {
        let _guard = self.inner.control.lock().await;
        let resource = self.resolve_resource(arn)?;
        self.update_resource(&resource, |f| {
            *f.policy = None;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_must_be_documents_with_statements() {
        let ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}"#;
        assert!(check_policy(ok).is_ok());
        assert!(check_policy(r#"{"Statement":{"Effect":"Deny"}}"#).is_ok());
        for bad in [
            "",
            "not json",
            "[]",
            "{}",
            r#"{"Statement":[]}"#,
            r#"{"Statement":"x"}"#,
        ] {
            assert!(
                matches!(check_policy(bad), Err(Error::InvalidPolicy { .. })),
                "{bad:?} is refused"
            );
        }
        let big = format!(
            r#"{{"Statement":{{"Sid":"{}"}}}}"#,
            "a".repeat(MAX_POLICY_BYTES)
        );
        assert!(matches!(
            check_policy(&big),
            Err(Error::PolicyTooLarge { .. })
        ));
    }
}
