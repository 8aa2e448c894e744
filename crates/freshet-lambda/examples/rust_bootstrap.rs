// SPDX-License-Identifier: Apache-2.0
//! A `provided.al2023` bootstrap built with AWS's `lambda_runtime` crate: the executor tests
//! run it to prove Freshet's Runtime API works with the Rust runtime client.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let name = event.payload["name"].as_str().unwrap_or("world").to_owned();
    if name == "fail" {
        return Err("asked to fail".into());
    }
    Ok(json!({
        "greeting": format!("hello {name}"),
        "function": event.context.env_config.function_name,
        "request_id": event.context.request_id,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
