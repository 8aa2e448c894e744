// SPDX-License-Identifier: Apache-2.0
//! The composite AlarmRule language: `ALARM("name")`, `OK(name)`, `INSUFFICIENT_DATA(arn)`,
//! `TRUE`, `FALSE`, `NOT`, `AND`, `OR` and parentheses (AND binds tighter than OR).
//! Nesting is bounded so no input can exhaust the stack.

use super::model::State;

/// The longest rule AWS accepts.
pub const MAX_RULE_LEN: usize = 10_240;
const MAX_DEPTH: usize = 64;

/// A parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// `TRUE` / `FALSE`.
    Const(bool),
    /// `ALARM(x)` etc.: whether alarm `x` (name or ARN) is in the state.
    Is(State, String),
    /// `NOT`.
    Not(Box<Rule>),
    /// `AND`.
    And(Box<Rule>, Box<Rule>),
    /// `OR`.
    Or(Box<Rule>, Box<Rule>),
}

impl Rule {
    /// The rule's value, `state_of` giving an alarm's state by name or ARN (`None`: no such
    /// alarm, which counts as not in any state).
    pub fn eval(&self, state_of: &dyn Fn(&str) -> Option<State>) -> bool {
        match self {
            Rule::Const(b) => *b,
            Rule::Is(s, name) => state_of(name) == Some(*s),
            Rule::Not(r) => !r.eval(state_of),
            Rule::And(a, b) => a.eval(state_of) && b.eval(state_of),
            Rule::Or(a, b) => a.eval(state_of) || b.eval(state_of),
        }
    }

    /// The alarms the rule names.
    pub fn names(&self, out: &mut Vec<String>) {
        match self {
            Rule::Const(_) => {}
            Rule::Is(_, n) => out.push(n.clone()),
            Rule::Not(r) => r.names(out),
            Rule::And(a, b) | Rule::Or(a, b) => {
                a.names(out);
                b.names(out);
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Open,
    Close,
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e) => s.push(e),
                            None => return Err("unterminated string".into()),
                        },
                        Some(ch) => s.push(ch),
                        None => return Err("unterminated string".into()),
                    }
                }
                out.push(Tok::Quoted(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || ch == '(' || ch == ')' || ch == '"' {
                        break;
                    }
                    s.push(ch);
                    chars.next();
                }
                out.push(Tok::Word(s));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.at), Some(Tok::Word(x)) if x == w)
    }

    fn or(&mut self, depth: usize) -> Result<Rule, String> {
        if depth > MAX_DEPTH {
            return Err("the rule is nested too deeply".into());
        }
        let mut left = self.and(depth + 1)?;
        while self.peek_word("OR") {
            self.at += 1;
            let right = self.and(depth + 1)?;
            left = Rule::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Rule, String> {
        let mut left = self.not(depth + 1)?;
        while self.peek_word("AND") {
            self.at += 1;
            let right = self.not(depth + 1)?;
            left = Rule::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self, depth: usize) -> Result<Rule, String> {
        if depth > MAX_DEPTH {
            return Err("the rule is nested too deeply".into());
        }
        if self.peek_word("NOT") {
            self.at += 1;
            return Ok(Rule::Not(Box::new(self.not(depth + 1)?)));
        }
        self.primary(depth + 1)
    }

    fn primary(&mut self, depth: usize) -> Result<Rule, String> {
        let tok = self.toks.get(self.at).cloned();
        self.at += 1;
        match tok {
            Some(Tok::Open) => {
                let r = self.or(depth + 1)?;
                self.expect_close()?;
                Ok(r)
            }
            Some(Tok::Word(w)) => {
                let state = match w.as_str() {
                    "TRUE" => return Ok(Rule::Const(true)),
                    "FALSE" => return Ok(Rule::Const(false)),
                    "ALARM" => State::Alarm,
                    "OK" => State::Ok,
                    "INSUFFICIENT_DATA" => State::InsufficientData,
                    other => return Err(format!("unexpected '{other}'")),
                };
                if self.toks.get(self.at) != Some(&Tok::Open) {
                    return Err(format!("expected '(' after {w}"));
                }
                self.at += 1;
                let name = match self.toks.get(self.at).cloned() {
                    Some(Tok::Quoted(s) | Tok::Word(s)) if !s.is_empty() => s,
                    _ => return Err(format!("expected an alarm name in {w}()")),
                };
                self.at += 1;
                self.expect_close()?;
                Ok(Rule::Is(state, name))
            }
            Some(Tok::Quoted(s)) => Err(format!("unexpected \"{s}\"")),
            Some(Tok::Close) => Err("unexpected ')'".into()),
            None => Err("unexpected end of rule".into()),
        }
    }

    fn expect_close(&mut self) -> Result<(), String> {
        if self.toks.get(self.at) == Some(&Tok::Close) {
            self.at += 1;
            Ok(())
        } else {
            Err("expected ')'".into())
        }
    }
}

/// Parses an AlarmRule.
pub fn parse(text: &str) -> Result<Rule, String> {
    if text.is_empty() || text.len() > MAX_RULE_LEN {
        return Err(format!(
            "the rule must be between 1 and {MAX_RULE_LEN} characters long"
        ));
    }
    let mut p = Parser {
        toks: lex(text)?,
        at: 0,
    };
    let r = p.or(0)?;
    if p.at != p.toks.len() {
        return Err("unexpected text after the rule".into());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rules_parse_with_and_binding_tighter_than_or() {
        let r = parse(r#"ALARM("a") OR OK(b) AND NOT INSUFFICIENT_DATA("c")"#).unwrap();
        let states = |n: &str| match n {
            "a" => Some(State::Ok),
            "b" => Some(State::Ok),
            "c" => Some(State::Alarm),
            _ => None,
        };
        assert!(r.eval(&states));
        let mut names = Vec::new();
        r.names(&mut names);
        assert_eq!(names, ["a", "b", "c"]);
        assert!(parse("(TRUE AND FALSE) OR TRUE").unwrap().eval(&|_| None));
        assert!(!parse("ALARM(missing)").unwrap().eval(&|_| None));
    }

    #[test]
    fn malformed_rules_are_refused() {
        for bad in [
            "",
            "ALARM",
            "ALARM()",
            "ALARM(a",
            "TRUE TRUE",
            "AND",
            "(TRUE",
            "x(a)",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}TRUE{}", "(".repeat(500), ")".repeat(500));
        assert!(parse(&deep).is_err());
    }

    proptest! {
        #[test]
        fn the_parser_never_panics(s in ".{0,200}") {
            let _ = parse(&s);
        }

        #[test]
        fn the_parser_never_panics_on_rule_like_text(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("ALARM("), Just("OK("), Just("\"a\""), Just(")"), Just("("),
                    Just(" AND "), Just(" OR "), Just("NOT "), Just("TRUE"), Just("b"),
                ],
                0..60,
            )
        ) {
            let _ = parse(&parts.concat());
        }
    }
}
