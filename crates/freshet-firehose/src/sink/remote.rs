// SPDX-License-Identifier: Apache-2.0
//! Delivery to an external S3-compatible store (being built: see the `fhrules` branch).
