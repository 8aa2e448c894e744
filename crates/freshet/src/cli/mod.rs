// SPDX-License-Identifier: Apache-2.0
//! The command-line surface: global options, the subcommand tree, and dispatch.
//!
//! Each subcommand lives in its own module and exposes an `Args` struct plus a `run` function.
//! Commands that talk to a server share [`client`] for building the AWS SDK client.

pub mod agent;
pub mod bench;
pub mod client;
pub mod config;
pub mod demo;
pub mod inspect;
pub mod put;
pub mod serve;
pub mod streams;
pub mod tail;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Freshet: a Kinesis Data Streams compatible server and its command-line tools.
#[derive(Debug, Parser)]
#[command(name = "freshet", version, max_term_width = 100)]
pub struct Cli {
    /// Options shared by every command that talks to a server.
    #[command(flatten)]
    pub global: GlobalOpts,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Where the server is, for commands that are AWS API clients.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Endpoint of the Freshet (or Kinesis) server.
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "FRESHET_ENDPOINT",
        default_value = "http://127.0.0.1:4567"
    )]
    pub endpoint: String,
    /// Region used to sign requests.
    #[arg(
        long,
        global = true,
        help_heading = "Connection",
        env = "AWS_REGION",
        default_value = "us-east-1"
    )]
    pub region: String,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(serve::ServeArgs),
    /// Print or check server configuration.
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Create, list, describe and delete streams.
    #[command(subcommand)]
    Streams(streams::StreamsCommand),
    /// Put one record per input line.
    Put(put::PutArgs),
    /// Print records from every shard of a stream.
    Tail(tail::TailArgs),
    /// Dump segment files or a data directory, without a server.
    Inspect(inspect::InspectArgs),
    /// Measure an endpoint: throughput, latency, errors, server CPU and memory.
    Bench(bench::BenchArgs),
    /// Tail files into streams or delivery streams, reading the Kinesis Agent's agent.json.
    Agent(agent::AgentArgs),
    /// Write realistic demo records (stock trades, taxi trips, covid tests, KPL) to a stream,
    /// a delivery stream or a file.
    Demo(demo::DemoArgs),
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Config(cmd) => config::run(cmd),
        Command::Inspect(args) => inspect::run(&args),
        Command::Agent(args) => agent::run(&cli.global, args),
        Command::Streams(cmd) => {
            init_client_tracing();
            let client = client::build(&cli.global);
            runtime()?.block_on(streams::run(&client, cmd))
        }
        Command::Put(args) => {
            init_client_tracing();
            let client = client::build(&cli.global);
            runtime()?.block_on(put::run(client, args))
        }
        Command::Bench(args) => {
            init_client_tracing();
            runtime()?.block_on(bench::run(&cli.global, args))
        }
        Command::Demo(args) => {
            init_client_tracing();
            runtime()?.block_on(demo::run(&cli.global, args))
        }
        Command::Tail(args) => {
            init_client_tracing();
            let client = client::build(&cli.global);
            runtime()?.block_on(tail::run(client, args))
        }
    }
}

/// The runtime for client commands and the server.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Client commands log to stderr, quietly unless `RUST_LOG` asks for more.
fn init_client_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    // A second init can only fail if a subscriber is already set, which is harmless here.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
