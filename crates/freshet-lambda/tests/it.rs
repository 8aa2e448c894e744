// SPDX-License-Identifier: Apache-2.0
//! Integration tests of freshet-lambda on a temporary platform.

mod it {
    mod esm;
}
