// SPDX-License-Identifier: Apache-2.0
//! `freshet`: the only binary. Parses the command line, dispatches to a subcommand and turns
//! the outcome into an exit code: 0 on success, 1 on a runtime failure, 2 on a usage or
//! configuration error.

mod cli;

use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory as _, FromArgMatches as _};

/// mimalloc rather than glibc's malloc: a request allocates a few dozen small objects (header
/// maps, strings, futures, decoded records), and glibc's allocator was about a tenth of the
/// server's CPU on single-record puts (`benches/compare/instructions.py`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let mut args = match cli::Cli::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(err) => err.exit(),
    };
    if let cli::Command::Agent(agent) = &mut args.command {
        agent.endpoint_given = matches.value_source("endpoint") == Some(ValueSource::CommandLine);
    }
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
