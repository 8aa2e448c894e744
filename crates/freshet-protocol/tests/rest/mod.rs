// SPDX-License-Identifier: Apache-2.0
//! The REST-JSON binder against botocore's own serializer and parser (`fixtures`, regenerated
//! by `gen_fixtures.py`), and property tests that binding never panics.

mod fixtures;
mod props;
