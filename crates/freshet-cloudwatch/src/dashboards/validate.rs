// SPDX-License-Identifier: Apache-2.0
//! Dashboard body validation, as AWS's schema check answers: errors fail PutDashboard with
//! DashboardInvalidInputError ("The dashboard body is invalid, there are N validation
//! errors: […]") carrying one `(DataPath, Message)` per problem, DataPath a JSON pointer
//! into the body (`/widgets/0/properties`) and Message in the schema checker's words
//! ("Should have required property 'properties'"). A body that is not a JSON object fails
//! with "The field DashboardBody must be a valid JSON object".

use serde_json::Value;

use crate::error::CwError;
use crate::statistic::Statistic;

/// The widget types.
const WIDGET_TYPES: &[&str] = &["metric", "text", "log", "alarm", "explorer", "custom"];
/// The most widgets of one dashboard.
pub const MAX_WIDGETS: usize = 500;

/// Checks a dashboard name: 1–255 characters of `[A-Za-z0-9_-]`.
pub fn check_name(name: &str) -> Result<(), CwError> {
    if name.is_empty() || name.len() > 255 {
        return Err(CwError::DashboardInvalidInput {
            message: "The value for field DashboardName must be between 1 and 255 characters long."
                .into(),
            messages: vec![],
        });
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CwError::DashboardInvalidInput {
            message: "The value for field DashboardName contains invalid characters. It can only contain alphanumerics, dash (-) and underscore (_).".into(),
            messages: vec![],
        });
    }
    Ok(())
}

struct Check {
    errors: Vec<(String, String)>,
}

impl Check {
    fn fail(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push((path.to_owned(), message.into()));
    }

    fn int(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        path: &str,
        key: &str,
        min: i64,
        max: i64,
    ) {
        let Some(v) = obj.get(key) else { return };
        let p = format!("{path}/{key}");
        match v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        {
            None => self.fail(&p, "Should be integer"),
            Some(n) if n < min => self.fail(&p, format!("Should be >= {min}")),
            Some(n) if n > max => self.fail(&p, format!("Should be <= {max}")),
            Some(_) => {}
        }
    }

    fn string(&mut self, obj: &serde_json::Map<String, Value>, path: &str, key: &str) {
        if let Some(v) = obj.get(key)
            && !v.is_string()
        {
            self.fail(&format!("{path}/{key}"), "Should be string");
        }
    }
}

/// Checks a dashboard body; the warnings when it passes.
pub fn check_body(body: &str) -> Result<Vec<(String, String)>, CwError> {
    let not_object = |m: &str| CwError::DashboardInvalidInput {
        message: "The field DashboardBody must be a valid JSON object".into(),
        messages: vec![(String::new(), m.to_owned())],
    };
    let value: Value = serde_json::from_str(body).map_err(|e| not_object(&e.to_string()))?;
    let Value::Object(root) = value else {
        return Err(not_object("Should be object"));
    };
    let mut c = Check { errors: Vec::new() };
    match root.get("widgets") {
        None => c.fail("", "Should have required property 'widgets'"),
        Some(Value::Array(widgets)) => {
            if widgets.len() > MAX_WIDGETS {
                c.fail(
                    "/widgets",
                    format!("Should NOT have more than {MAX_WIDGETS} items"),
                );
            }
            for (i, w) in widgets.iter().enumerate() {
                widget(&mut c, &format!("/widgets/{i}"), w);
            }
        }
        Some(_) => c.fail("/widgets", "Should be array"),
    }
    c.string(&root, "", "start");
    c.string(&root, "", "end");
    if let Some(p) = root.get("periodOverride")
        && !matches!(p.as_str(), Some("auto" | "inherit"))
    {
        c.fail(
            "/periodOverride",
            "Should be equal to one of the allowed values",
        );
    }
    if let Some(v) = root.get("variables")
        && !v.is_array()
    {
        c.fail("/variables", "Should be array");
    }
    if c.errors.is_empty() {
        return Ok(Vec::new());
    }
    let listed: Vec<Value> = c
        .errors
        .iter()
        .map(|(p, m)| serde_json::json!({"dataPath": p, "message": m}))
        .collect();
    let pretty = serde_json::to_string_pretty(&listed).unwrap_or_default();
    Err(CwError::DashboardInvalidInput {
        message: format!(
            "The dashboard body is invalid, there are {} validation errors: {pretty}",
            c.errors.len()
        ),
        messages: c.errors,
    })
}

fn widget(c: &mut Check, path: &str, w: &Value) {
    let Value::Object(w) = w else {
        c.fail(path, "Should be object");
        return;
    };
    let kind = match w.get("type") {
        None => {
            c.fail(path, "Should have required property 'type'");
            None
        }
        Some(Value::String(t)) if WIDGET_TYPES.contains(&t.as_str()) => Some(t.as_str()),
        Some(_) => {
            c.fail(
                &format!("{path}/type"),
                "Should be equal to one of the allowed values",
            );
            None
        }
    };
    c.int(w, path, "x", 0, 23);
    c.int(w, path, "y", 0, i64::from(i32::MAX));
    c.int(w, path, "width", 1, 24);
    c.int(w, path, "height", 1, 1000);
    let props_path = format!("{path}/properties");
    let props = match w.get("properties") {
        None => {
            c.fail(path, "Should have required property 'properties'");
            return;
        }
        Some(Value::Object(p)) => p,
        Some(_) => {
            c.fail(&props_path, "Should be object");
            return;
        }
    };
    match kind {
        Some("metric") => metric_widget(c, &props_path, props),
        Some("text") => match props.get("markdown") {
            None => c.fail(&props_path, "Should have required property 'markdown'"),
            Some(Value::String(_)) => {}
            Some(_) => c.fail(&format!("{props_path}/markdown"), "Should be string"),
        },
        Some("alarm") => match props.get("alarms") {
            None => c.fail(&props_path, "Should have required property 'alarms'"),
            Some(Value::Array(a)) => {
                for (i, arn) in a.iter().enumerate() {
                    if !arn.is_string() {
                        c.fail(&format!("{props_path}/alarms/{i}"), "Should be string");
                    }
                }
            }
            Some(_) => c.fail(&format!("{props_path}/alarms"), "Should be array"),
        },
        Some("log") => match props.get("query") {
            None => c.fail(&props_path, "Should have required property 'query'"),
            Some(Value::String(_)) => {}
            Some(_) => c.fail(&format!("{props_path}/query"), "Should be string"),
        },
        _ => {}
    }
}

fn metric_widget(c: &mut Check, path: &str, p: &serde_json::Map<String, Value>) {
    let has_alarm_annotation = p.get("annotations").and_then(|a| a.get("alarms")).is_some();
    match (p.get("metrics"), p.get("query")) {
        (None, None) if !has_alarm_annotation => {
            c.fail(path, "Should have required property 'metrics'")
        }
        (Some(Value::Array(rows)), _) => {
            for (i, row) in rows.iter().enumerate() {
                metric_row(c, &format!("{path}/metrics/{i}"), row, i == 0);
            }
        }
        (Some(_), _) => c.fail(&format!("{path}/metrics"), "Should be array"),
        _ => {}
    }
    c.string(p, path, "query");
    c.string(p, path, "region");
    c.string(p, path, "title");
    if let Some(v) = p.get("period") {
        match v.as_i64() {
            Some(n) if n == 1 || n == 5 || n == 10 || n == 30 || (n >= 60 && n % 60 == 0) => {}
            Some(_) => c.fail(
                &format!("{path}/period"),
                "Should be 1, 5, 10, 30 or a multiple of 60",
            ),
            None => c.fail(&format!("{path}/period"), "Should be integer"),
        }
    }
    if let Some(v) = p.get("stat") {
        match v.as_str() {
            Some(s) if Statistic::parse(s).is_some() || is_other_stat(s) => {}
            Some(_) => c.fail(&format!("{path}/stat"), "Should be a valid statistic"),
            None => c.fail(&format!("{path}/stat"), "Should be string"),
        }
    }
    if let Some(v) = p.get("view")
        && !matches!(
            v.as_str(),
            Some("timeSeries" | "singleValue" | "gauge" | "bar" | "pie" | "table")
        )
    {
        c.fail(
            &format!("{path}/view"),
            "Should be equal to one of the allowed values",
        );
    }
}

/// Statistics dashboards accept beyond [`Statistic`]: trimmed means and the like
/// (`tm99`, `wm90`, `TC(10%:90%)`, `IQM`).
fn is_other_stat(s: &str) -> bool {
    s == "IQM"
        || ["tm", "wm", "tc", "ts", "pr", "TM", "WM", "TC", "TS", "PR"]
            .iter()
            .any(|p| s.starts_with(p) && s.len() > p.len())
}

fn metric_row(c: &mut Check, path: &str, row: &Value, first: bool) {
    let Value::Array(items) = row else {
        c.fail(path, "Should be array");
        return;
    };
    let (strings, options) = match items.last() {
        Some(Value::Object(o)) => (&items[..items.len() - 1], Some(o)),
        _ => (&items[..], None),
    };
    if strings.is_empty() {
        // `[{"expression": "…"}]` (or a reference to another metric by id).
        match options {
            Some(o) if o.contains_key("expression") => {
                c.string(o, &format!("{path}/0"), "expression");
            }
            _ => c.fail(path, "Should NOT have fewer than 2 items"),
        }
        return;
    }
    for (i, s) in strings.iter().enumerate() {
        match s.as_str() {
            None => c.fail(&format!("{path}/{i}"), "Should be string"),
            Some(".") if first => c.fail(
                &format!("{path}/{i}"),
                "\".\" repeats the previous row's value and cannot be used in the first row",
            ),
            Some(_) => {}
        }
    }
    if strings.len() < 2 {
        c.fail(path, "Should NOT have fewer than 2 items");
    } else if strings.len() % 2 != 0 {
        c.fail(
            path,
            "Should have a namespace, a metric name, then dimension name and value pairs",
        );
    }
    if let Some(o) = options {
        let at = format!("{path}/{}", items.len() - 1);
        c.string(o, &at, "label");
        c.string(o, &at, "id");
        c.string(o, &at, "stat");
        c.string(o, &at, "color");
        c.string(o, &at, "region");
        c.int(o, &at, "period", 1, i64::from(i32::MAX));
        if let Some(v) = o.get("visible")
            && !v.is_boolean()
        {
            c.fail(&format!("{at}/visible"), "Should be boolean");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn messages(body: &str) -> Vec<(String, String)> {
        match check_body(body) {
            Ok(_) => Vec::new(),
            Err(CwError::DashboardInvalidInput { messages, .. }) => messages,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn aws_example_body_is_valid() {
        let body = r#"{"widgets":[{"type":"metric","x":0,"y":0,"width":12,"height":6,
            "properties":{"metrics":[["AWS/EC2","CPUUtilization","InstanceId","i-012345"],
            [".","NetworkIn",".","."],[{"expression":"m1*2","label":"x","id":"e1"}]],
            "period":300,"stat":"Average","region":"us-east-1","title":"EC2 Instance CPU"}},
            {"type":"text","x":0,"y":7,"width":3,"height":3,"properties":{"markdown":"Hello"}}],
            "start":"-PT6H","periodOverride":"inherit"}"#;
        assert_eq!(
            check_body(body).expect("valid"),
            Vec::<(String, String)>::new()
        );
        assert!(check_body(r#"{"widgets":[]}"#).is_ok());
    }

    #[test]
    fn a_body_that_is_not_a_json_object_fails_with_aws_message() {
        for body in ["", "[]", "not json", "42"] {
            let e = check_body(body).expect_err(body);
            assert_eq!(
                e.to_string(),
                "The field DashboardBody must be a valid JSON object"
            );
            assert_eq!(e.code(), "DashboardInvalidInputError");
        }
    }

    #[test]
    fn each_problem_has_its_data_path() {
        assert_eq!(
            messages(r#"{}"#),
            [(
                String::new(),
                "Should have required property 'widgets'".to_owned()
            )]
        );
        let m = messages(
            r#"{"widgets":[{"type":"metric","width":25},{"type":"text","properties":{}},{"type":"nope","properties":{}}]}"#,
        );
        let paths: Vec<&str> = m.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/widgets/0/width",
                "/widgets/0",
                "/widgets/1/properties",
                "/widgets/2/type"
            ]
        );
        assert_eq!(m[0].1, "Should be <= 24");
        assert_eq!(m[1].1, "Should have required property 'properties'");
    }

    #[test]
    fn the_summary_counts_the_errors() {
        let e = check_body(r#"{"widgets":[{"type":"metric","properties":{}}]}"#).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("The dashboard body is invalid, there are 1 validation errors:"),
            "{e}"
        );
    }

    #[test]
    fn metric_rows_are_checked() {
        let m = messages(
            r#"{"widgets":[{"type":"metric","properties":{"metrics":[[".","x"],["ns"],["ns","m","d"],[{"label":"no expression"}]]}}]}"#,
        );
        let paths: Vec<&str> = m.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/widgets/0/properties/metrics/0/0",
                "/widgets/0/properties/metrics/1",
                "/widgets/0/properties/metrics/2",
                "/widgets/0/properties/metrics/3"
            ]
        );
    }

    #[test]
    fn dashboard_names_are_alphanumerics_dash_and_underscore() {
        assert!(check_name("ok-name_1").is_ok());
        assert!(check_name("bad name").is_err());
        assert!(check_name("").is_err());
    }

    proptest! {
        #[test]
        fn validation_never_panics(s in ".{0,300}") {
            let _ = check_body(&s);
        }

        #[test]
        fn validation_never_panics_on_json(v in arb_json()) {
            let _ = check_body(&serde_json::json!({"widgets": [v]}).to_string());
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z.]{0,5}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("type".to_owned()),
                        Just("properties".to_owned()),
                        Just("metrics".to_owned()),
                        Just("width".to_owned()),
                        Just("markdown".to_owned()),
                        "[a-z]{1,4}".prop_map(String::from)
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
