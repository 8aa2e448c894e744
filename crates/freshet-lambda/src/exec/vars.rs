// SPDX-License-Identifier: Apache-2.0
//! The environment an execution environment's process starts with (reference §3.2): what
//! Lambda sets, the function's own variables on top, and the variables runtimes cannot work
//! without set last so a function cannot break its own runtime. Freshet's own environment
//! is not inherited (it may hold real credentials), except `PATH` and `LD_LIBRARY_PATH`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::spec::{FunctionSpec, Runtime};

/// What the executor adds to a spec to build an environment's variables.
#[derive(Debug, Clone)]
pub struct EnvContext<'a> {
    /// `AWS_LAMBDA_RUNTIME_API` (`127.0.0.1:<port>`).
    pub runtime_api: &'a str,
    /// The log stream of the environment.
    pub log_stream: &'a str,
    /// Where Freshet's runtime clients are (`LAMBDA_RUNTIME_DIR`).
    pub runtime_dir: &'a Path,
    /// The environment's scratch directory (`TMPDIR`).
    pub tmp_dir: &'a Path,
    /// The region (`AWS_REGION`, `AWS_DEFAULT_REGION`).
    pub region: &'a str,
    /// `AWS_ENDPOINT_URL`, so SDKs in the handler call Freshet.
    pub endpoint_url: Option<&'a str>,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    pub credentials: (&'a str, &'a str, &'a str),
}

/// The full environment of the process, in a stable order.
pub fn environment(spec: &FunctionSpec, cx: &EnvContext<'_>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: &str| {
        env.insert(k.to_owned(), v.to_owned());
    };
    if let Ok(path) = std::env::var("PATH") {
        set("PATH", &path);
    }
    if let Ok(ld) = std::env::var("LD_LIBRARY_PATH") {
        set("LD_LIBRARY_PATH", &ld);
    }
    set("LANG", "en_US.UTF-8");
    set("TZ", ":UTC");
    set("AWS_REGION", cx.region);
    set("AWS_DEFAULT_REGION", cx.region);
    set("AWS_ACCESS_KEY_ID", cx.credentials.0);
    set("AWS_SECRET_ACCESS_KEY", cx.credentials.1);
    set("AWS_SESSION_TOKEN", cx.credentials.2);
    if let Some(url) = cx.endpoint_url {
        set("AWS_ENDPOINT_URL", url);
    }
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    set("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR");
    set("AWS_XRAY_DAEMON_ADDRESS", "127.0.0.1:2000");
    let tmp = cx.tmp_dir.to_string_lossy();
    set("TMPDIR", &tmp);
    set("TMP", &tmp);
    set("TEMP", &tmp);
    if !spec.runtime.is_provided() {
        set(
            "AWS_EXECUTION_ENV",
            &format!("AWS_Lambda_{}", spec.runtime.id()),
        );
    }
    if let Runtime::Python(_) = spec.runtime {
        // Python writes bytecode caches next to modules; the code directory is read-only
        // by convention, as /var/task is.
        set("PYTHONDONTWRITEBYTECODE", "1");
    }
    for (k, v) in &spec.environment {
        set(k, v);
    }
    // Runtime clients (and Rust's lambda_runtime, which panics without the function
    // name, version and memory) need these exact values.
    set("AWS_LAMBDA_RUNTIME_API", cx.runtime_api);
    set("_HANDLER", &spec.handler);
    set("LAMBDA_TASK_ROOT", &spec.code_dir.to_string_lossy());
    set("LAMBDA_RUNTIME_DIR", &cx.runtime_dir.to_string_lossy());
    set("AWS_LAMBDA_FUNCTION_NAME", &spec.name);
    set("AWS_LAMBDA_FUNCTION_VERSION", &spec.version);
    set(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        &spec.memory_mb.to_string(),
    );
    set("AWS_LAMBDA_LOG_GROUP_NAME", &spec.log_group);
    set("AWS_LAMBDA_LOG_STREAM_NAME", cx.log_stream);
    env
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;

    fn spec() -> FunctionSpec {
        FunctionSpec {
            name: "f".into(),
            arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            version: "$LATEST".into(),
            runtime: Runtime::Python(12),
            handler: "app.handler".into(),
            code_dir: PathBuf::from("/code"),
            code_sha256: String::new(),
            timeout: Duration::from_secs(3),
            memory_mb: 256,
            environment: BTreeMap::from([
                ("AWS_ENDPOINT_URL".to_owned(), "http://elsewhere".to_owned()),
                ("AWS_LAMBDA_RUNTIME_API".to_owned(), "bogus".to_owned()),
                ("MY_VAR".to_owned(), "1".to_owned()),
            ]),
            log_group: "/aws/lambda/f".into(),
            reserved_concurrency: None,
            revision: 1,
        }
    }

    fn cx() -> EnvContext<'static> {
        EnvContext {
            runtime_api: "127.0.0.1:9001",
            log_stream: "2024/01/01/[$LATEST]00",
            runtime_dir: Path::new("/rt"),
            tmp_dir: Path::new("/scratch"),
            region: "eu-west-1",
            endpoint_url: Some("http://127.0.0.1:4567"),
            credentials: ("test", "test", "test"),
        }
    }

    #[test]
    fn function_variables_override_lambdas_but_not_the_runtime_contract() {
        let env = environment(&spec(), &cx());
        assert_eq!(env["MY_VAR"], "1");
        assert_eq!(env["AWS_ENDPOINT_URL"], "http://elsewhere");
        assert_eq!(env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:9001");
    }

    #[test]
    fn every_variable_runtime_clients_read_is_set() {
        let env = environment(&spec(), &cx());
        for (k, v) in [
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/f"),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2024/01/01/[$LATEST]00"),
            ("_HANDLER", "app.handler"),
            ("LAMBDA_TASK_ROOT", "/code"),
            ("LAMBDA_RUNTIME_DIR", "/rt"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "eu-west-1"),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_python3.12"),
            ("TZ", ":UTC"),
            ("TMPDIR", "/scratch"),
        ] {
            assert_eq!(env.get(k).map(String::as_str), Some(v), "{k}");
        }
    }

    #[test]
    fn provided_runtimes_have_no_execution_env() {
        let mut s = spec();
        s.runtime = Runtime::ProvidedAl2023;
        assert!(!environment(&s, &cx()).contains_key("AWS_EXECUTION_ENV"));
    }
}
