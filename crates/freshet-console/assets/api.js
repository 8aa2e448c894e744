// SPDX-License-Identifier: Apache-2.0
// The AWS APIs of this endpoint, called from the browser: same origin, unsigned (Freshet
// does not check signatures). JSON timestamps are epoch seconds; errors become ApiError.

export class ApiError extends Error {
  constructor(code, message, status) {
    super(`${code}: ${message}`);
    this.code = code;
    this.status = status;
  }
}

async function failure(resp) {
  let code = resp.headers.get('x-amzn-ErrorType') || `HTTP ${resp.status}`;
  let message = resp.statusText;
  try {
    const text = await resp.text();
    if (text.startsWith('{')) {
      const body = JSON.parse(text);
      code = body.__type || body.code || code;
      message = body.message || body.Message || message;
    } else if (text.startsWith('<')) {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      code = doc.querySelector('Code')?.textContent || code;
      message = doc.querySelector('Message')?.textContent || message;
    }
  } catch (_) { /* keep the status line */ }
  return new ApiError(String(code).split('#').pop().split(':')[0], message, resp.status);
}

async function rpc(target, version, body) {
  const resp = await fetch('/', {
    method: 'POST',
    headers: { 'X-Amz-Target': target, 'Content-Type': `application/x-amz-json-${version}` },
    body: JSON.stringify(body || {}),
  });
  if (!resp.ok) throw await failure(resp);
  const text = await resp.text();
  return text ? JSON.parse(text) : {};
}

export const kinesis = (op, body) => rpc(`Kinesis_20131202.${op}`, '1.1', body);
export const sqs = (op, body) => rpc(`AmazonSQS.${op}`, '1.0', body);
export const logs = (op, body) => rpc(`Logs_20140328.${op}`, '1.1', body);
export const firehose = (op, body) => rpc(`Firehose_20150804.${op}`, '1.1', body);
export const cloudwatch = (op, body) => rpc(`GraniteServiceVersion20100801.${op}`, '1.0', body);

/** Lambda's REST-JSON API: GET `/2015-03-31/functions<path>`. */
export async function lambda(path) {
  const resp = await fetch(`/2015-03-31/functions${path}`);
  if (!resp.ok) throw await failure(resp);
  return resp.json();
}

/** Every item of a paginated call: `pick` takes the page's items, `next` its token name. */
export async function all(call, body, pick, tokenIn = 'NextToken', tokenOut = tokenIn, max = 10000) {
  const out = [];
  let token;
  do {
    const page = await call({ ...body, ...(token ? { [tokenIn]: token } : {}) });
    out.push(...(pick(page) || []));
    token = page[tokenOut];
  } while (token && out.length < max);
  return out;
}

/** Every stream summary (ListStreams pages of 100). */
export async function listStreams(max = 10000) {
  const out = [];
  let token;
  do {
    const page = await kinesis('ListStreams', token ? { NextToken: token } : { Limit: 100 });
    const summaries = page.StreamSummaries
      || (page.StreamNames || []).map((StreamName) => ({ StreamName }));
    out.push(...summaries);
    token = page.HasMoreStreams ? page.NextToken : undefined;
  } while (token && out.length < max);
  return out;
}

/** Objects of an S3 bucket (ListObjectsV2, path style, newest pages until `max`). */
export async function s3List(bucket, prefix = '', max = 1000) {
  const out = [];
  let token = '';
  do {
    const q = new URLSearchParams({ 'list-type': '2', prefix });
    if (token) q.set('continuation-token', token);
    const resp = await fetch(`/${encodeURIComponent(bucket)}?${q}`);
    if (!resp.ok) throw await failure(resp);
    const doc = new DOMParser().parseFromString(await resp.text(), 'application/xml');
    for (const c of doc.querySelectorAll('Contents')) {
      out.push({
        Key: c.querySelector('Key')?.textContent || '',
        Size: Number(c.querySelector('Size')?.textContent || 0),
        LastModified: c.querySelector('LastModified')?.textContent || '',
      });
    }
    token = doc.querySelector('IsTruncated')?.textContent === 'true'
      ? doc.querySelector('NextContinuationToken')?.textContent || '' : '';
  } while (token && out.length < max);
  return out;
}

/** The time window of a range name, with a period that keeps charts under ~300 points. */
export function timeWindow(range) {
  const seconds = { '1h': 3600, '3h': 10800, '12h': 43200, '1d': 86400 }[range] || 3600;
  const end = Math.ceil(Date.now() / 60000) * 60;
  const period = seconds <= 3600 ? 60 : seconds <= 10800 ? 60 : seconds <= 43200 ? 300 : 300;
  return { start: end - seconds, end, period, seconds };
}

/** A MetricStat query for GetMetricData. */
export function stat(id, namespace, metric, dims, statName, period, label) {
  return {
    Id: id,
    Label: label || metric,
    MetricStat: {
      Metric: {
        Namespace: namespace,
        MetricName: metric,
        Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value: String(Value) })),
      },
      Period: period,
      Stat: statName,
    },
    ReturnData: true,
  };
}

/**
 * GetMetricData over `win` for any number of queries (500 per call, all pages); returns
 * a map from query id to { label, timestamps (epoch s, ascending), values }.
 */
export async function metricData(queries, win) {
  const out = new Map();
  for (let i = 0; i < queries.length; i += 500) {
    let token;
    do {
      const page = await cloudwatch('GetMetricData', {
        MetricDataQueries: queries.slice(i, i + 500),
        StartTime: win.start,
        EndTime: win.end,
        ScanBy: 'TimestampAscending',
        ...(token ? { NextToken: token } : {}),
      });
      for (const r of page.MetricDataResults || []) {
        const prev = out.get(r.Id) || { label: r.Label || r.Id, timestamps: [], values: [] };
        prev.timestamps.push(...(r.Timestamps || []).map(toSeconds));
        prev.values.push(...(r.Values || []));
        out.set(r.Id, prev);
      }
      token = page.NextToken;
    } while (token);
  }
  for (const series of out.values()) sortSeries(series);
  return out;
}

function sortSeries(s) {
  const idx = s.timestamps.map((_, i) => i).sort((a, b) => s.timestamps[a] - s.timestamps[b]);
  s.timestamps = idx.map((i) => s.timestamps[i]);
  s.values = idx.map((i) => s.values[i]);
}

/** A JSON timestamp (epoch seconds, or an ISO string from some encoders) in seconds. */
export function toSeconds(t) {
  if (typeof t === 'number') return t > 1e11 ? t / 1000 : t;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? 0 : ms / 1000;
}
