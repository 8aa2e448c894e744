// SPDX-License-Identifier: Apache-2.0
//! Why a filter pattern was refused, and the limits that refuse it.
//!
//! AWS answers every refused pattern with `InvalidParameterException`. The only texts we have
//! seen from AWS are the model's length violation (LocalStack's AWS-validated snapshot:
//! "1 validation error detected: Value '…' at 'filterPattern' failed to satisfy constraint:
//! Member must have length less than or equal to 1024") and PutMetricFilter's bare
//! [`AWS_INVALID_METRIC_FILTER_PATTERN`] (aws-cdk#16278). AWS gives no detail for syntax errors,
//! so ours are our own wording: "Invalid filter pattern: <what> at character <n>", which a user
//! can act on. The service layer decides which text a given operation sends.

use thiserror::Error;

/// Longest pattern the model allows (`FilterPattern`, max 1024), counted in characters.
pub const MAX_PATTERN_CHARS: usize = 1024;

/// Deepest parenthesis nesting we parse. AWS documents no limit; this one only keeps hostile
/// input from exhausting the stack, and is far above anything a person writes.
pub const MAX_NESTING: usize = 32;

/// Most `%regex%` terms in one pattern (AWS quota: "a limit of 2 regex for each filter pattern").
pub const MAX_REGEXES: usize = 2;

/// Most wildcard selectors (`$.*`, `[*]`) in one JSON pattern. AWS quota as read by the floci
/// emulator's review (one per selector, three per pattern) [unverified against AWS].
pub const MAX_WILDCARD_SELECTORS: usize = 3;

/// The whole message AWS returns when PutMetricFilter rejects a pattern's syntax
/// (seen in aws/aws-cdk#16278). FilterLogEvents' wording is not known to us.
pub const AWS_INVALID_METRIC_FILTER_PATTERN: &str = "Invalid metric filter pattern";

/// A filter pattern that cannot be used. Positions are 1-based character numbers in the
/// pattern as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PatternError {
    /// Longer than [`MAX_PATTERN_CHARS`]; the text mirrors AWS's model validation message.
    #[error(
        "1 validation error detected: Value at 'filterPattern' failed to satisfy constraint: \
         Member must have length less than or equal to 1024"
    )]
    TooLong {
        /// Characters in the refused pattern.
        chars: usize,
    },
    /// The parser needed something else at this point.
    #[error("Invalid filter pattern: expected {expected} at character {at}")]
    Expected {
        /// Where the parser stopped.
        at: usize,
        /// What would have been valid there.
        expected: &'static str,
    },
    /// Something that is never valid, such as a second `...` in a space-delimited pattern.
    #[error("Invalid filter pattern: {problem} at character {at}")]
    Invalid {
        /// Where the problem starts.
        at: usize,
        /// What is wrong.
        problem: &'static str,
    },
    /// Parentheses nest deeper than [`MAX_NESTING`].
    #[error("Invalid filter pattern: parentheses nest deeper than 32 levels at character {at}")]
    TooDeep {
        /// The parenthesis that went one level too deep.
        at: usize,
    },
    /// More than [`MAX_REGEXES`] `%regex%` terms.
    #[error("Invalid filter pattern: {count} regular expressions, at most 2 are allowed")]
    TooManyRegexes {
        /// Regular expressions found.
        count: usize,
    },
    /// More than [`MAX_WILDCARD_SELECTORS`] wildcard selectors in a JSON pattern.
    #[error("Invalid filter pattern: {count} wildcard selectors, at most 3 are allowed")]
    TooManyWildcards {
        /// Wildcard selectors found.
        count: usize,
    },
    /// A character AWS does not allow in a `%regex%` term (for example `(` or `!`).
    #[error(
        "Invalid filter pattern: '{ch}' is not supported in a regular expression at character {at}"
    )]
    RegexCharacter {
        /// Where the character is.
        at: usize,
        /// The refused character.
        ch: char,
    },
    /// A `%regex%` that does not compile, or compiles to more than our size limit.
    #[error("Invalid filter pattern: bad regular expression at character {at}: {detail}")]
    Regex {
        /// Where the regular expression starts (its opening `%`).
        at: usize,
        /// The regex engine's explanation, first line only.
        detail: String,
    },
    /// Two fields of a space-delimited pattern have the same name.
    #[error("Invalid filter pattern: field '{name}' is named twice")]
    DuplicateField {
        /// The repeated name.
        name: String,
    },
}
