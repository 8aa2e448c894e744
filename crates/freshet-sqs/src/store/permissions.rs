// SPDX-License-Identifier: Apache-2.0
//! AddPermission and RemovePermission: statements in the queue's Policy attribute, stored
//! (and shown by GetQueueAttributes) but not enforced.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::queue::Queue;
use super::{Sqs, SqsError};
use crate::error::Error;

/// Most actions in one AddPermission.
const MAX_ACTIONS: usize = 7;
/// The actions a permission may grant (the queue actions of the API, and `*`).
const PERMISSION_ACTIONS: [&str; 10] = [
    "*",
    "ChangeMessageVisibility",
    "DeleteMessage",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "PurgeQueue",
    "ReceiveMessage",
    "SendMessage",
    "ListQueueTags",
];

impl Sqs {
    /// AddPermission: a statement `Sid = label` in the queue's Policy.
    pub(crate) async fn add_permission(
        &self,
        q: &Queue,
        label: &str,
        accounts: &[String],
        actions: &[String],
    ) -> Result<(), SqsError> {
        if actions.len() > MAX_ACTIONS {
            return Err(Error::OverLimit {
                message: format!(
                    "{} Actions were found, maximum allowed is {MAX_ACTIONS}.",
                    actions.len()
                ),
            }
            .into());
        }
        if let Some(bad) = actions
            .iter()
            .find(|a| !PERMISSION_ACTIONS.contains(&a.as_str()))
        {
            return Err(Error::invalid_value(
                format!("SQS:{bad}"),
                "ActionName",
                "Please refer to the appropriate WSDL for a list of valid actions. ",
            )
            .into());
        }
        if accounts.is_empty() {
            return Err(Error::MissingParameter {
                parameter: "AWSAccountIds",
            }
            .into());
        }
        if actions.is_empty() {
            return Err(Error::MissingParameter {
                parameter: "Actions",
            }
            .into());
        }
        let arn = q.arn.clone();
        self.edit_policy(q, |statements| {
            if statements
                .iter()
                .any(|s| s.get("Sid").and_then(Value::as_str) == Some(label))
            {
                return Err(Error::invalid_value(label, "Label", "Already exists."));
            }
            let principals: Vec<Value> = accounts
                .iter()
                .map(|a| Value::String(format!("arn:aws:iam::{a}:root")))
                .collect();
            let acts: Vec<Value> = actions
                .iter()
                .map(|a| Value::String(format!("SQS:{a}")))
                .collect();
            let one_or_many = |mut v: Vec<Value>| {
                if v.len() == 1 {
                    v.swap_remove(0)
                } else {
                    Value::Array(v)
                }
            };
            statements.push(json!({
                "Sid": label,
                "Effect": "Allow",
                "Principal": { "AWS": one_or_many(principals) },
                "Action": one_or_many(acts),
                "Resource": arn,
            }));
            Ok(())
        })
        .await
    }

    /// RemovePermission.
    pub(crate) async fn remove_permission(&self, q: &Queue, label: &str) -> Result<(), SqsError> {
        self.edit_policy(q, |statements| {
            let before = statements.len();
            statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label));
            if statements.len() == before {
                return Err(Error::invalid_value(label, "Label", "can't find label."));
            }
            Ok(())
        })
        .await
    }

    async fn edit_policy(
        &self,
        q: &Queue,
        edit: impl FnOnce(&mut Vec<Value>) -> Result<(), Error>,
    ) -> Result<(), SqsError> {
        q.check()?;
        let current = q.lock().engine.attributes().policy.clone();
        let mut policy = current
            .as_deref()
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .filter(Value::is_object)
            .unwrap_or_else(|| {
                json!({
                    "Version": "2008-10-17",
                    "Id": format!("{}/SQSDefaultPolicy", q.arn),
                    "Statement": [],
                })
            });
        let mut statements: Vec<Value> = policy
            .get("Statement")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        edit(&mut statements)?;
        let empty = statements.is_empty();
        if let Some(obj) = policy.as_object_mut() {
            obj.insert("Statement".to_owned(), Value::Array(statements));
        }
        let text = if empty {
            String::new()
        } else {
            policy.to_string()
        };
        let given = BTreeMap::from([("Policy".to_owned(), text)]);
        self.set_queue_attributes(q, &given).await
    }
}
