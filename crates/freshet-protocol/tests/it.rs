// SPDX-License-Identifier: Apache-2.0
//! Integration tests of freshet-protocol, one binary: `query` checks the Query codec against
//! fixtures made by botocore 1.31.0 and with property tests; `rest` checks the REST-JSON
//! binder against fixtures made by botocore 1.43.11.

mod query;
mod rest;
