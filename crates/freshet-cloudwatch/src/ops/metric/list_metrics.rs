// SPDX-License-Identifier: Apache-2.0
//! ListMetrics: the metric index by namespace, name and dimension filters, 500 a page, the
//! NextToken being the last metric of the page (hex of its JSON); `RecentlyActive=PT3H` keeps
//! metrics with a datapoint in the last three hours. No cross-account observability, so no
//! `OwningAccounts`.

use freshet_metrics::MetricKey;
use freshet_protocol::json::{JBool, JList, JStr};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{Ctx, MetricOut, hex, invalid, string_len, too_many, unhex};
use crate::error::CwError;
use crate::store::ListFilter;

/// Metrics per page.
const PAGE: usize = 500;
/// What RecentlyActive=PT3H means.
const RECENT_MS: i64 = 3 * 3600 * 1000;

pub(crate) struct ListMetrics;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    namespace: Option<JStr>,
    metric_name: Option<JStr>,
    dimensions: Option<JList<FilterIn>>,
    next_token: Option<JStr>,
    recently_active: Option<JStr>,
    #[allow(dead_code)]
    include_linked_accounts: Option<JBool>,
    #[allow(dead_code)]
    owning_account: Option<JStr>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FilterIn {
    name: Option<JStr>,
    value: Option<JStr>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    metrics: Vec<MetricOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// The token that continues after `key`.
fn token_of(key: &MetricKey) -> String {
    hex(&serde_json::to_vec(key).unwrap_or_default())
}

fn key_of(token: &str) -> Result<MetricKey, CwError> {
    unhex(token)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| CwError::InvalidNextToken("The service cannot parse the NextToken.".into()))
}

impl<'a> Operation<Ctx<'a>> for ListMetrics {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let namespace = match i.namespace {
            Some(n) => Some(super::namespace(Some(n), "Namespace")?),
            None => None,
        };
        let name = match i.metric_name {
            Some(n) => Some(super::metric_name(Some(n), "MetricName")?),
            None => None,
        };
        let filters = i.dimensions.map(|l| l.0).unwrap_or_default();
        if filters.len() > 10 {
            return Err(too_many("Dimensions", 10).into());
        }
        let mut dimensions = Vec::with_capacity(filters.len());
        for (n, f) in filters.into_iter().enumerate() {
            let at = format!("Dimensions.member.{}", n + 1);
            let dim = f
                .name
                .ok_or_else(|| super::missing(format!("{at}.Name")))?
                .0;
            string_len(&dim, format!("{at}.Name"), 1, 255)?;
            if let Some(v) = &f.value {
                string_len(&v.0, format!("{at}.Value"), 1, 1024)?;
            }
            dimensions.push((dim, f.value.map(|v| v.0)));
        }
        let active_since_ms = match i.recently_active {
            None => None,
            Some(r) if r.0 == "PT3H" => Some(ctx.cw.store.clock().now_ms() - RECENT_MS),
            Some(r) => return Err(invalid(&r.0, "RecentlyActive").into()),
        };
        let after = i.next_token.map(|t| key_of(&t.0)).transpose()?;
        let filter = ListFilter {
            namespace,
            name,
            dimensions,
            active_since_ms,
        };
        // One more than a page says whether another page follows.
        let mut keys = ctx.cw.store.list(&filter, after.as_ref(), PAGE + 1);
        let next_token = if keys.len() > PAGE {
            keys.truncate(PAGE);
            keys.last().map(|k| token_of(k))
        } else {
            None
        };
        Ok(Output {
            metrics: keys.iter().map(|k| MetricOut::of(k)).collect(),
            next_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_the_metric_they_continue_after() {
        let k = MetricKey::new("N", "M", [("a", "1")]);
        assert_eq!(key_of(&token_of(&k)), Ok(k));
        assert!(matches!(
            key_of("nothex"),
            Err(CwError::InvalidNextToken(_))
        ));
        assert!(matches!(key_of("00"), Err(CwError::InvalidNextToken(_))));
    }
}
