// SPDX-License-Identifier: Apache-2.0
//! Integration tests of the Lambda API's domain and operations on a real metadata store in a
//! temporary directory, with a fake executor (one binary for the crate).

mod it {
    pub mod api;
    pub mod harness;
}
