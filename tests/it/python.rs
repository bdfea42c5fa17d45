//! The Python test peers (a real SMTP server from `aiosmtpd`, Slack's Block Kit checks from
//! `slack_sdk`, the OpenAPI document's validator from `openapi-spec-validator`), found or
//! installed on first use, so `cargo test` passes on a fresh machine by itself: the machine's
//! `python3` when it already has them all, else a virtual environment under
//! the target directory, made once with `python3 -m venv` and `pip install` from PyPI.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const PEERS: &[&str] = &["aiosmtpd", "slack_sdk", "openapi_spec_validator"];

fn has_peers(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {}", PEERS.join(", "))])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The Python interpreter that has every peer.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let system = PathBuf::from("python3");
        if has_peers(&system) {
            return system;
        }
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-peers");
        let python = venv.join("bin/python");
        if has_peers(&python) {
            return python;
        }
        // Another test binary may be making it at the same time: each makes its own and
        // renames it into place; the loser keeps the winner's.
        let staging = venv.with_extension(format!("{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&staging)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(staging.join("bin/python"))
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
                .args(PEERS)
                .status()
                .is_ok_and(|s| s.success());
        assert!(
            ok,
            "the tests need Python 3 with {PEERS:?}: `python3 -m venv` and pip install failed (is PyPI reachable?)"
        );
        if std::fs::rename(&staging, &venv).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        assert!(has_peers(&python), "{} lacks {PEERS:?}", python.display());
        python
    })
}
