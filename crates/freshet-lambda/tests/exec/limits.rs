// SPDX-License-Identifier: Apache-2.0
//! Concurrency: reserved and total limits throttle instead of queueing.

use std::sync::Arc;

use freshet_lambda::spec::{FunctionSpec, InvokeError, Runtime};

use super::harness::{Harness, invocation};

const SLOW: &str = "import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return 'done'\n";

/// Starts a slow invocation and waits until it holds its slot (its environment is busy).
async fn hold_a_slot(h: &Harness, spec: &FunctionSpec) -> tokio::task::JoinHandle<()> {
    let exec = h.exec.clone();
    let s = Arc::new(spec.clone());
    let task = tokio::spawn(async move {
        let r = exec.invoke(s, invocation(r#"{"sleep": 3}"#)).await.unwrap();
        assert_eq!(&r.payload[..], br#""done""#);
    });
    // The slot is taken synchronously at admission; give the task a moment to be admitted.
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        if h.exec.idle_environments(&spec.arn) == 0 {
            break;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    task
}

#[tokio::test]
async fn reserved_concurrency_throttles_the_invocation_beyond_it() {
    let h = Harness::new();
    let mut spec = h.function(
        "throttle-reserved",
        Runtime::Python(12),
        "app.handler",
        &[("app.py", SLOW)],
    );
    spec.reserved_concurrency = Some(1);
    let busy = hold_a_slot(&h, &spec).await;
    let err = h
        .exec
        .invoke(Arc::new(spec.clone()), invocation("{}"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        InvokeError::Throttled {
            reason: "ReservedFunctionConcurrentInvocationLimitExceeded".to_owned()
        }
    );
    busy.await.unwrap();
    // Once the slot is free the function runs again, on the warm environment.
    let r = h.invoke(&spec, "{}").await;
    assert_eq!(r.init_duration, None);
}

#[tokio::test]
async fn the_total_concurrency_throttles_every_function() {
    let h = Harness::with(|c| c.max_concurrency = 1);
    let a = h.function(
        "throttle-a",
        Runtime::Python(12),
        "app.handler",
        &[("app.py", SLOW)],
    );
    let b = h.function(
        "throttle-b",
        Runtime::Python(12),
        "app.handler",
        &[("app.py", SLOW)],
    );
    let busy = hold_a_slot(&h, &a).await;
    let err = h
        .exec
        .invoke(Arc::new(b.clone()), invocation("{}"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        InvokeError::Throttled {
            reason: "ConcurrentInvocationLimitExceeded".to_owned()
        }
    );
    busy.await.unwrap();
    assert_eq!(h.invoke(&b, "{}").await.function_error, None);
}

#[tokio::test]
async fn two_invocations_at_once_run_in_two_environments() {
    let h = Harness::new();
    let spec = h.function(
        "two-envs",
        Runtime::Python(12),
        "app.handler",
        &[("app.py", "import os, time\ndef handler(event, context):\n    time.sleep(1)\n    return os.getpid()\n")],
    );
    let s = Arc::new(spec.clone());
    let (a, b) = tokio::join!(
        h.exec.invoke(s.clone(), invocation("{}")),
        h.exec.invoke(s.clone(), invocation("{}"))
    );
    assert_ne!(a.unwrap().payload, b.unwrap().payload);
    assert_eq!(h.exec.idle_environments(&spec.arn), 2);
}

#[tokio::test]
async fn retire_and_shutdown_stop_idle_environments() {
    let h = Harness::new();
    let spec = h.function(
        "retire",
        Runtime::Python(12),
        "app.handler",
        &[("app.py", SLOW)],
    );
    h.invoke(&spec, "{}").await;
    assert_eq!(h.exec.idle_environments(&spec.arn), 1);
    h.exec.retire(&spec.arn);
    assert_eq!(h.exec.idle_environments(&spec.arn), 0);
    h.invoke(&spec, "{}").await;
    h.exec.shutdown();
    assert_eq!(h.exec.idle_environments(&spec.arn), 0);
    let err = h
        .exec
        .invoke(Arc::new(spec), invocation("{}"))
        .await
        .unwrap_err();
    assert!(matches!(err, InvokeError::Service(_)), "{err:?}");
}

#[tokio::test]
async fn an_environment_idle_past_the_limit_is_stopped() {
    let h = Harness::with(|c| c.idle_timeout = std::time::Duration::from_millis(100));
    let spec = h.function(
        "idle",
        Runtime::Python(12),
        "app.handler",
        &[("app.py", SLOW)],
    );
    h.invoke(&spec, "{}").await;
    for _ in 0..100 {
        if h.exec.idle_environments(&spec.arn) == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(h.exec.idle_environments(&spec.arn), 0);
    assert!(h.invoke(&spec, "{}").await.init_duration.is_some());
}

#[tokio::test]
async fn a_payload_over_six_megabytes_is_refused() {
    let h = Harness::new();
    let spec = h.function(
        "big",
        Runtime::Python(12),
        "app.handler",
        &[("app.py", SLOW)],
    );
    let big = "x".repeat(6 * 1024 * 1024 + 1);
    let err = h
        .exec
        .invoke(Arc::new(spec), invocation(&big))
        .await
        .unwrap_err();
    assert!(matches!(err, InvokeError::RequestTooLarge(_)), "{err:?}");
}

#[tokio::test]
async fn a_response_over_the_limit_is_a_function_error() {
    let h = Harness::new();
    let spec = h.function(
        "big-response",
        Runtime::Python(12),
        "app.handler",
        &[(
            "app.py",
            "def handler(event, context):\n    return 'x' * (7 * 1024 * 1024)\n",
        )],
    );
    let r = h.invoke(&spec, "{}").await;
    assert!(r.function_error.is_some());
    let v: serde_json::Value = serde_json::from_slice(&r.payload).unwrap();
    assert_eq!(v["errorType"], "Function.ResponseSizeTooLarge");
}
