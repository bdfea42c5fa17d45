//! Finding a Postgres when `DATABASE_URL` is not set: the local server on 127.0.0.1:5432 if one
//! answers, else a private server from the machine's `initdb`/`pg_ctl` in dunbot's own data
//! directory. With neither, say exactly how to get one.
use anyhow::{Context, Result, bail};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const DB_NAME: &str = "dunbot";
const PRIVATE_PORT: u16 = 54329;

pub async fn resolve(configured: Option<&str>) -> Result<String> {
    if let Some(url) = configured {
        return Ok(url.to_string());
    }
    for user in ["postgres", "root"] {
        let admin = format!("postgres://{user}@127.0.0.1:5432/postgres");
        let target = format!("postgres://{user}@127.0.0.1:5432/{DB_NAME}");
        if let Ok(url) = ensure_database(&admin, target).await {
            tracing::info!("using the local Postgres at 127.0.0.1:5432 (database {DB_NAME})");
            return Ok(url);
        }
    }
    let dir = data_dir();
    match start_private(&dir) {
        Ok((admin, target)) => ensure_database(&admin, target).await,
        Err(e) => bail!(
            "dunbot needs Postgres and found none: DATABASE_URL is not set, nothing answers on 127.0.0.1:5432, \
             and a private server in {} could not start ({e:#}).\n\
             Either install and start Postgres (Debian/Ubuntu: `sudo apt-get install postgresql && sudo pg_ctlcluster 15 main start`), \
             or set DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/dunbot in .env.",
            dir.display()
        ),
    }
}

/// Creates the `dunbot` database through `admin` if needed; returns `target`, its URL.
async fn ensure_database(admin: &str, target: String) -> Result<String> {
    let mut conn = tokio::time::timeout(Duration::from_secs(3), PgConnection::connect(admin))
        .await
        .context("timed out")??;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DB_NAME)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        sqlx::query("CREATE DATABASE dunbot")
            .execute(&mut conn)
            .await
            .or_else(|e| {
                if crate::store::is_unique_violation(&e) {
                    Ok(Default::default())
                } else {
                    Err(e)
                }
            })?;
    }
    let _ = conn.close().await;
    Ok(target)
}

fn data_dir() -> PathBuf {
    if let Ok(d) = std::env::var("DUNBOT_DATA_DIR") {
        return PathBuf::from(d).join("pg");
    }
    let base = std::env::var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|_| PathBuf::from(".dunbot"));
    base.join("dunbot/pg")
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if let Ok(rd) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .collect();
        versions.sort();
        dirs.extend(versions.into_iter().rev());
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Starts (initialising if needed) a private server listening only on a socket in `dir`;
/// returns its admin URL and the dunbot database's URL.
fn start_private(dir: &Path) -> Result<(String, String)> {
    let initdb =
        find_tool("initdb").context("no initdb on PATH or in /usr/lib/postgresql/*/bin")?;
    let pg_ctl = find_tool("pg_ctl").context("no pg_ctl")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Postgres refuses to run as root; run it as the postgres user when we are root.
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let wrap = |tool: &Path| -> Command {
        if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(tool);
            c
        } else {
            Command::new(tool)
        }
    };
    if as_root {
        Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir)
            .status()
            .context("chown to postgres")?;
    }
    if !dir.join("PG_VERSION").exists() {
        let st = wrap(&initdb)
            .args(["-A", "trust", "-U", "dunbot", "-D"])
            .arg(dir)
            .status()
            .context("running initdb")?;
        if !st.success() {
            bail!("initdb failed");
        }
    }
    let running = wrap(&pg_ctl)
        .arg("status")
        .arg("-D")
        .arg(dir)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !running {
        let opts = format!(
            "-p {PRIVATE_PORT} -k {} -c listen_addresses=",
            dir.display()
        );
        let st = wrap(&pg_ctl)
            .args(["-w", "-D"])
            .arg(dir)
            .args(["-l"])
            .arg(dir.join("server.log"))
            .args(["-o", &opts, "start"])
            .status()
            .context("running pg_ctl start")?;
        if !st.success() {
            bail!(
                "pg_ctl start failed; see {}",
                dir.join("server.log").display()
            );
        }
    }
    tracing::info!("using a private Postgres in {}", dir.display());
    let url = |db: &str| {
        format!(
            "postgres://dunbot@localhost:{PRIVATE_PORT}/{db}?host={}",
            dir.display()
        )
    };
    Ok((url("postgres"), url(DB_NAME)))
}
