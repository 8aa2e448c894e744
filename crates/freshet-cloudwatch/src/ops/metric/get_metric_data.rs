// SPDX-License-Identifier: Apache-2.0
//! GetMetricData: up to 500 queries (MetricStat or metric math Expression), evaluated by
//! [`crate::math::evaluate`]; the results with ReturnData, each ordered by ScanBy, paged by
//! MaxDatapoints. The NextToken is the number of datapoints already returned (hex), counted
//! through the results in query order; a result cut by the page end is `PartialData`.

use freshet_metrics::MetricKey;
use freshet_protocol::json::{JInt, JList, JStr, JTimestamp, Timestamp};
use freshet_protocol::validate::Validator;
use freshet_protocol::{ApiError, Operation};
use serde::{Deserialize, Serialize};

use super::{
    Ctx, dimensions, hex, invalid, metric_name, missing, namespace, too_many, unhex, unit,
};
use crate::error::CwError;
use crate::math::{self, MetricQuery, MetricStat, SeriesResult, Status};
use crate::ops::shapes::{MetricStatIn, QueryIn};
use crate::statistic::Statistic;

/// The most queries in one request.
const MAX_QUERIES: usize = 500;
/// The default (and largest useful) MaxDatapoints.
const DEFAULT_MAX_POINTS: i64 = 100_800;

pub(crate) struct GetMetricData;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Input {
    metric_data_queries: Option<JList<QueryIn>>,
    start_time: Option<JTimestamp>,
    end_time: Option<JTimestamp>,
    next_token: Option<JStr>,
    scan_by: Option<JStr>,
    max_datapoints: Option<JInt>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Output {
    metric_data_results: Vec<ResultOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    messages: Vec<MessageOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResultOut {
    id: String,
    label: String,
    timestamps: Vec<Timestamp>,
    values: Vec<f64>,
    status_code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<MessageOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MessageOut {
    code: String,
    value: String,
}

/// Whether `id` is a query id: a lower-case letter, then letters, digits and `_`.
pub(crate) fn valid_id(id: &str) -> bool {
    let mut b = id.bytes();
    b.next().is_some_and(|c| c.is_ascii_lowercase())
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && id.len() <= 255
}

fn query(q: QueryIn, at: &str) -> Result<MetricQuery, CwError> {
    let id = q.id.ok_or_else(|| missing(format!("{at}.Id")))?.0;
    if !valid_id(&id) {
        return Err(CwError::InvalidParameterValue(format!(
            "The value {id} for parameter {at}.Id is invalid. Ids must start with a lower-case \
             letter and contain only letters, numbers and underscores."
        )));
    }
    let metric_stat = match (q.metric_stat, &q.expression) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(CwError::InvalidParameterCombination(format!(
                "Exactly one of {at}.MetricStat and {at}.Expression must be specified."
            )));
        }
        (Some(ms), None) => Some(metric_stat(ms, &format!("{at}.MetricStat"))?),
        (None, Some(e)) => {
            super::string_len(&e.0, format!("{at}.Expression"), 1, 2048)?;
            None
        }
    };
    let period_s = q
        .period
        .map(|p| super::period(p.0, &format!("{at}.Period")))
        .transpose()?;
    Ok(MetricQuery {
        id,
        expression: q.expression.map(|e| e.0),
        metric_stat,
        label: q.label.map(|l| l.0),
        return_data: q.return_data.is_none_or(|r| r.0),
        period_s,
    })
}

fn metric_stat(ms: MetricStatIn, at: &str) -> Result<MetricStat, CwError> {
    let m = ms.metric.ok_or_else(|| missing(format!("{at}.Metric")))?;
    let ns = namespace(m.namespace, &format!("{at}.Metric.Namespace"))?;
    let name = metric_name(m.metric_name, &format!("{at}.Metric.MetricName"))?;
    let dims = dimensions(m.dimensions, &format!("{at}.Metric.Dimensions"))?;
    let period_s = super::period(
        ms.period.ok_or_else(|| missing(format!("{at}.Period")))?.0,
        &format!("{at}.Period"),
    )?;
    let stat_text = ms.stat.ok_or_else(|| missing(format!("{at}.Stat")))?.0;
    let stat =
        Statistic::parse(&stat_text).ok_or_else(|| invalid(&stat_text, format!("{at}.Stat")))?;
    Ok(MetricStat {
        key: MetricKey::new(ns, name, dims),
        period_s,
        stat,
        unit: unit(ms.unit, &format!("{at}.Unit"))?,
    })
}

impl<'a> Operation<Ctx<'a>> for GetMetricData {
    type Input = Input;
    type Output = Output;

    fn validate(_: &Input, _: &mut Validator) {}

    async fn call(ctx: &Ctx<'a>, i: Input) -> Result<Output, ApiError> {
        let list = i
            .metric_data_queries
            .map(|l| l.0)
            .ok_or_else(|| missing("MetricDataQueries"))?;
        if list.is_empty() {
            return Err(missing("MetricDataQueries").into());
        }
        if list.len() > MAX_QUERIES {
            return Err(too_many("MetricDataQueries", MAX_QUERIES).into());
        }
        let mut queries: Vec<MetricQuery> = Vec::with_capacity(list.len());
        for (n, q) in list.into_iter().enumerate() {
            let at = format!("MetricDataQueries.member.{}", n + 1);
            let q = query(q, &at)?;
            if queries.iter().any(|o| o.id == q.id) {
                return Err(CwError::InvalidParameterValue(format!(
                    "The value {} for parameter {at}.Id is not unique.",
                    q.id
                ))
                .into());
            }
            queries.push(q);
        }
        let (start, end) = super::get_metric_statistics::time_range(i.start_time, i.end_time)?;
        let descending = match i.scan_by.as_ref().map(|s| s.0.as_str()) {
            None | Some("TimestampDescending") => true,
            Some("TimestampAscending") => false,
            Some(other) => return Err(invalid(other, "ScanBy").into()),
        };
        let max = i.max_datapoints.map_or(DEFAULT_MAX_POINTS, |m| m.0);
        if max < 1 {
            return Err(invalid(max, "MaxDatapoints").into());
        }
        let offset = match &i.next_token {
            None => 0,
            Some(t) => unhex(&t.0)
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or_else(|| {
                    CwError::InvalidNextToken("The service cannot parse the NextToken.".into())
                })?,
        };
        let finest = queries
            .iter()
            .filter_map(|q| q.metric_stat.as_ref().map(|m| m.period_s).or(q.period_s))
            .min()
            .unwrap_or(60);
        let now = ctx.cw.store.clock().now_ms();
        let start = super::get_metric_statistics::align_start(start, now, finest);
        let results = math::evaluate(&ctx.cw.store, &queries, start, end).await?;
        let returned: Vec<SeriesResult> = results
            .into_iter()
            .filter(|r| {
                queries
                    .iter()
                    .find(|q| q.id == r.id)
                    .is_none_or(|q| q.return_data)
            })
            .collect();
        Ok(page(
            returned,
            descending,
            offset,
            usize::try_from(max).unwrap_or(usize::MAX),
        ))
    }
}

/// One page of `results`: datapoints `[offset, offset + max)` counted through the results in
/// order, each result's points ordered as ScanBy says.
fn page(results: Vec<SeriesResult>, descending: bool, offset: usize, max: usize) -> Output {
    let mut out = Vec::new();
    let mut seen = 0usize;
    let end = offset.saturating_add(max);
    let mut more = false;
    for r in results {
        let n = r.timestamps.len();
        let (from, to) = (offset.max(seen).min(seen + n), end.max(seen).min(seen + n));
        let first_page = offset == 0;
        let cut = to < seen + n;
        more |= cut;
        if to > from || (n == 0 && first_page) {
            let mut pairs: Vec<(i64, f64)> = r.timestamps.into_iter().zip(r.values).collect();
            if descending {
                pairs.reverse();
            }
            let slice = &pairs[from - seen..to - seen];
            out.push(ResultOut {
                id: r.id,
                label: r.label,
                timestamps: slice.iter().map(|(t, _)| Timestamp(*t)).collect(),
                values: slice.iter().map(|(_, v)| *v).collect(),
                status_code: if cut {
                    Status::PartialData.as_str()
                } else {
                    r.status.as_str()
                },
                messages: r
                    .messages
                    .into_iter()
                    .map(|(code, value)| MessageOut { code, value })
                    .collect(),
            });
        }
        seen += n;
    }
    Output {
        metric_data_results: out,
        next_token: more.then(|| hex(end.to_string().as_bytes())),
        messages: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(id: &str, n: usize) -> SeriesResult {
        SeriesResult {
            id: id.into(),
            label: id.into(),
            timestamps: (0..n as i64).map(|t| t * 60_000).collect(),
            values: (0..n).map(|v| v as f64).collect(),
            status: Status::Complete,
            messages: Vec::new(),
        }
    }

    #[test]
    fn ids_start_with_a_lower_case_letter() {
        assert!(valid_id("m1"));
        assert!(valid_id("errorRate_2"));
        for bad in ["M1", "1m", "", "m-1", "m 1", "_m"] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn pages_cut_datapoints_across_results_and_mark_them_partial() {
        let p = page(vec![series("a", 3), series("b", 3)], true, 0, 4);
        assert_eq!(p.metric_data_results.len(), 2);
        assert_eq!(p.metric_data_results[0].values, vec![2.0, 1.0, 0.0]);
        assert_eq!(p.metric_data_results[0].status_code, "Complete");
        assert_eq!(p.metric_data_results[1].values, vec![2.0]);
        assert_eq!(p.metric_data_results[1].status_code, "PartialData");
        let token = p.next_token.expect("more");
        let offset: usize = String::from_utf8(unhex(&token).expect("hex"))
            .expect("utf8")
            .parse()
            .expect("number");
        let p2 = page(vec![series("a", 3), series("b", 3)], true, offset, 4);
        assert_eq!(p2.metric_data_results.len(), 1);
        assert_eq!(p2.metric_data_results[0].values, vec![1.0, 0.0]);
        assert_eq!(p2.next_token, None);
    }

    #[test]
    fn ascending_scans_keep_time_order_and_empty_results_show_once() {
        let p = page(vec![series("a", 2), series("e", 0)], false, 0, 10);
        assert_eq!(p.metric_data_results[0].values, vec![0.0, 1.0]);
        assert_eq!(p.metric_data_results[1].values, Vec::<f64>::new());
        assert_eq!(p.next_token, None);
    }
}
