// SPDX-License-Identifier: Apache-2.0
//! `freshet config default` and `freshet config check FILE`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use freshet_server::config::DEFAULT_CONFIG_TOML;
use freshet_server::{Config, LoadOptions};

/// `freshet config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the fully commented default configuration.
    Default,
    /// Load and validate a configuration file (environment variables are not applied).
    Check {
        /// The TOML file to check.
        file: PathBuf,
    },
}

/// Runs a `config` subcommand. An invalid file exits with code 2.
pub fn run(cmd: ConfigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ConfigCommand::Default => {
            print!("{DEFAULT_CONFIG_TOML}");
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Check { file } => {
            let opts = LoadOptions {
                file: Some(file.clone()),
                read_env: false,
                overrides: vec![],
            };
            match Config::load(&opts) {
                Ok(_) => {
                    println!("{}: ok", file.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => {
                    eprintln!("error: {err}");
                    Ok(ExitCode::from(2))
                }
            }
        }
    }
}
