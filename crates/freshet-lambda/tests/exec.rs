// SPDX-License-Identifier: Apache-2.0
//! The executor with real processes and real runtime clients: Python and Node handlers
//! written as AWS's documentation writes them, awslambdaric under `provided.al2023`, and a
//! Rust `lambda_runtime` bootstrap.

mod exec {
    mod harness;
    mod limits;
    mod logs;
    mod node;
    mod provided;
    mod python;
}
