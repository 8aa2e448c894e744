// SPDX-License-Identifier: Apache-2.0
//! Name and qualifier checks shared by the operations: the model's checks of `FunctionName`
//! and `Qualifier`, and how a validated `FunctionName` becomes the function it names.

use freshet_protocol::validate::Validator;

use crate::functions::names::{self, FunctionRef};
use crate::functions::{Error, Functions};
use crate::ops::finish;

/// The model checks of a `FunctionName` member (`pattern` and `max` differ by operation).
pub(crate) fn check_name(v: &mut Validator, name: &Option<String>, namespaced: bool) {
    v.required("functionName", name);
    let (pattern, max): (freshet_protocol::validate::Pattern, usize) = if namespaced {
        (
            (
                names::is_namespaced_function_name,
                names::NAMESPACED_FUNCTION_NAME_PATTERN,
            ),
            256,
        )
    } else {
        ((names::is_function_name, names::FUNCTION_NAME_PATTERN), 140)
    };
    v.string("functionName", name.as_deref(), 1, Some(max), Some(pattern));
}

/// The model checks of a namespaced `FunctionName` and its optional `Qualifier`.
pub(crate) fn check_qualified(name: &Option<String>, qualifier: Option<&str>) -> Result<(), Error> {
    let mut v = Validator::new();
    check_name(&mut v, name, true);
    v.string(
        "qualifier",
        qualifier,
        1,
        Some(128),
        Some((names::is_qualifier, names::QUALIFIER_PATTERN)),
    );
    finish(v)
}

/// The function a `FunctionName` member names (validated already), with the qualifier.
pub(crate) fn reference(
    f: &Functions,
    name: Option<&str>,
    qualifier: Option<&str>,
) -> Result<FunctionRef, Error> {
    f.reference(name.unwrap_or_default(), qualifier)
}

/// A reference that must not carry a qualifier (operations on the function as a whole).
pub(crate) fn unqualified(f: &Functions, name: Option<&str>) -> Result<String, Error> {
    let r = reference(f, name, None)?;
    if r.qualifier.is_some() {
        return Err(Error::InvalidParameter(
            "This operation is permitted on Lambda functions only. Aliases and versions do not \
             support this operation. Please specify either a function name or an unqualified \
             function ARN."
                .into(),
        ));
    }
    Ok(r.name)
}
