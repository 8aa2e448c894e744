// SPDX-License-Identifier: Apache-2.0
//! Crate tests of the in-process S3 handle: no HTTP, a store on a temp dir.

mod it {
    mod handle;
}
