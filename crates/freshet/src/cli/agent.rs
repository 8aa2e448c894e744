// SPDX-License-Identifier: Apache-2.0
//! `freshet agent`: tails files as the Kinesis Agent does, reading its `agent.json`
//! unchanged, and sends the records through the AWS SDK to Freshet or to AWS.
//!
//! SIGINT or SIGTERM stop it gracefully: the buffer in hand is sent, checkpoints are saved,
//! and the next start resumes at the next line. `--once` exits 0 as soon as every matched
//! file is read to its end, sent and checkpointed.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use freshet_agent::sdk::{SdkSink, metrics_client, publish_metrics};
use freshet_agent::{AgentConfig, RunOptions};
use freshet_metrics::Recorder;
use tracing_subscriber::EnvFilter;

use crate::cli::GlobalOpts;

/// Options of `freshet agent`.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The Kinesis Agent's agent.json (read unchanged).
    #[arg(short = 'c', long, env = "FRESHET_AGENT_CONFIG")]
    pub config: PathBuf,
    /// Exit 0 once every matched file is read to its end, sent and checkpointed.
    #[arg(long, visible_alias = "exit-when-idle")]
    pub once: bool,
    /// Checkpoint file when agent.json sets no checkpointFile
    /// (default ~/.local/state/freshet/agent/checkpoints).
    #[arg(long)]
    pub checkpoint_file: Option<PathBuf>,
    /// Whether `--endpoint` was given on the command line (not defaulted or from the
    /// environment); set by `main` from the parsed matches.
    #[arg(skip)]
    pub endpoint_given: bool,
}

/// Runs the agent until a signal (or, with `--once`, until every file is sent).
/// `--endpoint`, when given on the command line, replaces every endpoint of agent.json.
pub fn run(global: &GlobalOpts, args: AgentArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    let mut config = match AgentConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}: {e}", args.config.display());
            return Ok(ExitCode::from(2));
        }
    };
    if args.endpoint_given {
        config.override_endpoints(&global.endpoint);
    }
    let default_checkpoint_file = args
        .checkpoint_file
        .clone()
        .unwrap_or_else(default_checkpoints);
    crate::cli::runtime()?.block_on(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("Stopping: sending the current buffers and saving checkpoints.");
            let _ = stop_tx.send(true);
        });
        let recorder = Recorder::new(Arc::new(freshet_types::SystemClock));
        let (metrics_stop, metrics_stop_rx) = tokio::sync::watch::channel(false);
        let publisher = config.emit_metrics.then(|| {
            tokio::spawn(publish_metrics(
                metrics_client(&config),
                recorder.clone(),
                config.metrics_interval,
                metrics_stop_rx,
            ))
        });
        let sink = Arc::new(SdkSink::new(&config));
        let opts = RunOptions {
            once: args.once,
            default_checkpoint_file,
            recorder,
        };
        let summary = freshet_agent::run(config, sink, opts, stop_rx)
            .await
            .context("agent failed")?;
        let _ = metrics_stop.send(true);
        if let Some(p) = publisher {
            let _ = p.await;
        }
        tracing::debug!(?summary, "Agent stopped.");
        Ok(ExitCode::SUCCESS)
    })
}

/// `~/.local/state/freshet/agent/checkpoints`, or `./freshet-agent-checkpoints` without a
/// home directory.
fn default_checkpoints() -> PathBuf {
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")));
    match state {
        Some(dir) => dir.join("freshet").join("agent").join("checkpoints"),
        None => PathBuf::from("freshet-agent-checkpoints"),
    }
}

/// The agent logs its progress at info level (as the Kinesis Agent does) unless `RUST_LOG`
/// says otherwise.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
