// SPDX-License-Identifier: Apache-2.0
//! `freshet serve`: load configuration, set up logging, run the server until a signal.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use freshet_server::config::LogFormat;
use freshet_server::{Config, LoadOptions};
use tracing_subscriber::EnvFilter;

/// Options of `freshet serve`. Flags beat `FRESHET__*` variables, which beat the file.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); see `freshet config default`.
    #[arg(long, env = "FRESHET_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address, e.g. 127.0.0.1:4567 (overrides server.listen).
    #[arg(long, env = "FRESHET_LISTEN")]
    pub listen: Option<String>,
    /// Data directory (overrides storage.data_dir).
    #[arg(long, env = "FRESHET_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// When puts are acknowledged (overrides storage.durability).
    #[arg(long, env = "FRESHET_DURABILITY", value_enum)]
    pub durability: Option<Durability>,
    /// Also serve HTTPS (ALPN h2 and http/1.1) on this address, e.g. 127.0.0.1:4568
    /// (overrides server.tls_listen).
    #[arg(long, env = "FRESHET_TLS_LISTEN")]
    pub tls_listen: Option<String>,
    /// PEM certificate chain for the TLS port (overrides server.tls_cert); without it a
    /// self-signed certificate is generated in the data directory.
    #[arg(long, env = "FRESHET_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert (overrides server.tls_key).
    #[arg(long, env = "FRESHET_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Throttle shards of provisioned streams at the AWS shard limits (sets
    /// kinesis.shard_quotas = true).
    #[arg(long)]
    pub shard_quotas: bool,
}

/// `--durability` values; mirrors `freshet_server::config::DurabilityMode`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Durability {
    /// Acknowledge after fdatasync (group commit).
    Fsync,
    /// Acknowledge after the write; fsync periodically.
    Interval,
    /// Acknowledge after the write; fsync on segment roll and shutdown only.
    None,
}

impl Durability {
    fn as_config_value(self) -> &'static str {
        match self {
            Durability::Fsync => "fsync",
            Durability::Interval => "interval",
            Durability::None => "none",
        }
    }
}

/// Builds the load options: only flags actually given become overrides.
fn load_options(args: &ServeArgs) -> LoadOptions {
    let mut overrides = Vec::new();
    if let Some(listen) = &args.listen {
        overrides.push(("server.listen".to_owned(), quote(listen)));
    }
    if let Some(dir) = &args.data_dir {
        overrides.push(("storage.data_dir".to_owned(), quote(&dir.to_string_lossy())));
    }
    if let Some(d) = args.durability {
        overrides.push(("storage.durability".to_owned(), quote(d.as_config_value())));
    }
    if let Some(addr) = &args.tls_listen {
        overrides.push(("server.tls_listen".to_owned(), quote(addr)));
    }
    if let Some(path) = &args.tls_cert {
        overrides.push(("server.tls_cert".to_owned(), quote(&path.to_string_lossy())));
    }
    if let Some(path) = &args.tls_key {
        overrides.push(("server.tls_key".to_owned(), quote(&path.to_string_lossy())));
    }
    if args.shard_quotas {
        overrides.push(("kinesis.shard_quotas".to_owned(), "true".to_owned()));
    }
    LoadOptions {
        file: args.config.clone(),
        read_env: true,
        overrides,
    }
}

/// Override values are parsed as TOML when they parse; quoting makes a path or address stay a
/// string even when it happens to look like a number or contains TOML syntax.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Runs `freshet serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = match Config::load(&load_options(&args)) {
        Ok(c) => c,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Err(err) = init_tracing(&config) {
        eprintln!("error: {err:#}");
        return Ok(ExitCode::from(2));
    }
    let runtime = super::runtime()?;
    match runtime.block_on(freshet_server::serve(config)) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            tracing::error!(error = %err, "Server stopped with an error.");
            eprintln!("error: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `RUST_LOG` wins over `log.level`; `log.format` picks text or JSON lines on stderr.
fn init_tracing(config: &Config) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => {
            EnvFilter::try_new(&v).map_err(|e| anyhow::anyhow!("invalid RUST_LOG {v:?}: {e}"))?
        }
        _ => EnvFilter::try_new(&config.log.level)
            .map_err(|e| anyhow::anyhow!("invalid log.level {:?}: {e}", config.log.level))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let result = match config.log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot initialise logging: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_flags_become_overrides() {
        let args = ServeArgs {
            config: None,
            listen: Some("127.0.0.1:0".into()),
            data_dir: None,
            durability: Some(Durability::None),
            tls_listen: None,
            tls_cert: None,
            tls_key: None,
            shard_quotas: true,
        };
        let opts = load_options(&args);
        assert!(opts.read_env);
        assert_eq!(
            opts.overrides,
            vec![
                ("server.listen".to_owned(), "\"127.0.0.1:0\"".to_owned()),
                ("storage.durability".to_owned(), "\"none\"".to_owned()),
                ("kinesis.shard_quotas".to_owned(), "true".to_owned()),
            ]
        );
    }

    #[test]
    fn tls_flags_become_server_overrides() {
        let args = ServeArgs {
            config: None,
            listen: None,
            data_dir: None,
            durability: None,
            tls_listen: Some("127.0.0.1:4568".into()),
            tls_cert: Some("/etc/c.pem".into()),
            tls_key: Some("/etc/k.pem".into()),
            shard_quotas: false,
        };
        assert_eq!(
            load_options(&args).overrides,
            vec![
                (
                    "server.tls_listen".to_owned(),
                    "\"127.0.0.1:4568\"".to_owned()
                ),
                ("server.tls_cert".to_owned(), "\"/etc/c.pem\"".to_owned()),
                ("server.tls_key".to_owned(), "\"/etc/k.pem\"".to_owned()),
            ]
        );
    }

    #[test]
    fn quoting_escapes_toml_specials() {
        assert_eq!(quote(r#"C:\data "x""#), r#""C:\\data \"x\"""#);
    }
}
