// SPDX-License-Identifier: Apache-2.0
//! The runtime clients Freshet embeds (standard library only, so nothing must be installed)
//! and the interpreters that run them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::exec::SetupError;
use crate::spec::Runtime;

/// The Python runtime client (behaves like awslambdaric).
const PYTHON_CLIENT: &str = include_str!("../../runtime/python/freshet_lambda_runtime.py");
/// The Node runtime client (behaves like aws-lambda-ric).
const NODE_CLIENT: &str = include_str!("../../runtime/node/freshet_lambda_runtime.mjs");

/// Where the clients were written.
#[derive(Debug, Clone)]
pub struct Clients {
    /// `LAMBDA_RUNTIME_DIR`.
    pub dir: PathBuf,
    /// The Python client script.
    pub python: PathBuf,
    /// The Node client script.
    pub node: PathBuf,
}

impl Clients {
    /// Writes the clients under `dir` (overwriting older copies).
    pub fn write(dir: &Path) -> Result<Clients, SetupError> {
        let python = dir.join("python").join("freshet_lambda_runtime.py");
        let node = dir.join("node").join("freshet_lambda_runtime.mjs");
        for (path, text) in [(&python, PYTHON_CLIENT), (&node, NODE_CLIENT)] {
            let parent = path.parent().unwrap_or(dir);
            std::fs::create_dir_all(parent).map_err(|source| SetupError {
                path: parent.to_path_buf(),
                source,
            })?;
            std::fs::write(path, text).map_err(|source| SetupError {
                path: path.clone(),
                source,
            })?;
        }
        Ok(Clients {
            dir: dir.to_path_buf(),
            python,
            node,
        })
    }

    /// The client script of `runtime`; `None` for `provided.*`.
    pub fn script(&self, runtime: Runtime) -> Option<&Path> {
        match runtime {
            Runtime::Python(_) => Some(&self.python),
            Runtime::Node(_) => Some(&self.node),
            Runtime::ProvidedAl2 | Runtime::ProvidedAl2023 => None,
        }
    }
}

/// The commands to try for `runtime`, in order, when none is configured.
pub fn default_candidates(runtime: Runtime) -> Vec<String> {
    match runtime {
        Runtime::Python(minor) => vec![format!("python3.{minor}"), "python3".to_owned()],
        Runtime::Node(_) => vec!["node".to_owned()],
        Runtime::ProvidedAl2 | Runtime::ProvidedAl2023 => Vec::new(),
    }
}

/// Finds a working interpreter among `candidates`: the first that is on `PATH` (or a path)
/// and actually runs (a pyenv shim for a version that is not installed does not). Python
/// resolves to `sys.executable`, so every start skips the shim.
pub async fn resolve(runtime: Runtime, candidates: &[String]) -> Option<PathBuf> {
    for c in candidates {
        let Some(path) = which(c) else { continue };
        let probe: &[&str] = match runtime {
            Runtime::Python(_) => &["-c", "import sys; print(sys.executable)"],
            _ => &["-e", "console.log(process.execPath)"],
        };
        let out = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::process::Command::new(&path)
                .args(probe)
                .stdin(std::process::Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await;
        if let Ok(Ok(out)) = out
            && out.status.success()
        {
            let exe = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if !exe.is_empty() && Path::new(&exe).is_absolute() {
                return Some(PathBuf::from(exe));
            }
            return Some(path);
        }
    }
    None
}

/// `PATH` lookup; a name with a `/` is taken as a path.
fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_prefers_its_own_minor_version_then_python3() {
        assert_eq!(
            default_candidates(Runtime::Python(12)),
            vec!["python3.12".to_owned(), "python3".to_owned()]
        );
        assert_eq!(
            default_candidates(Runtime::Node(20)),
            vec!["node".to_owned()]
        );
        assert!(default_candidates(Runtime::ProvidedAl2023).is_empty());
    }

    #[test]
    fn which_finds_nothing_for_a_missing_command() {
        assert_eq!(which("freshet-no-such-interpreter"), None);
    }
}
