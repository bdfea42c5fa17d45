//! The console edge: reads `ar ...` lines from standard input (interactive or piped) and prints
//! each answer. The same core, the same commands, as Slack and Discord. `console:*` channels
//! are printed by its deliverer; `demo` seeds the sample portfolio through it.
pub mod deliver;
pub mod demo;
pub mod render;

use crate::app::{Actor, App, Invocation, Platform, Source};
use crate::domain::roles::Role;
use anyhow::Result;
use chrono::NaiveDate;
use render::render;
use std::io::IsTerminal;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

pub struct ConsoleUser {
    pub name: String,
    pub roles: Vec<Role>,
    pub agency: Option<String>,
    pub as_of: Option<NaiveDate>,
}

impl ConsoleUser {
    pub fn actor(&self) -> Actor {
        Actor {
            platform: Platform::Console,
            user_id: self.name.clone(),
            name: self.name.clone(),
            roles: self.roles.clone(),
            agency: self.agency.clone(),
        }
    }
}

/// Runs one line as `user`; the request id is fresh, so each line acts once.
pub async fn run_line(app: &App, user: &ConsoleUser, line: &str) -> String {
    let inv = Invocation {
        actor: user.actor(),
        channel: "console:local".into(),
        request_id: format!("console:{}", uuid::Uuid::new_v4()),
        text: line.to_string(),
        source: Source::Command,
        now: app.now(),
        as_of: user.as_of,
    };
    let out = app.handle(inv).await;
    render(&out.reply)
}

pub async fn run(app: &App, user: &ConsoleUser) -> Result<()> {
    let interactive = std::io::stdin().is_terminal();
    let root = app.settings.command_root.clone();
    let mut out = tokio::io::stdout();
    if interactive {
        let roles: Vec<&str> = user.roles.iter().map(Role::key).collect();
        out.write_all(
            format!(
                "dunbot console as {} ({}). Type `{root} help`, or `quit` to leave.\n",
                user.name,
                roles.join(", ")
            )
            .as_bytes(),
        )
        .await?;
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        if interactive {
            out.write_all(format!("{root}> ").as_bytes()).await?;
            out.flush().await?;
        }
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if matches!(line, "quit" | "exit" | "\\q") {
            break;
        }
        if !interactive {
            out.write_all(format!("{root}> {line}\n").as_bytes())
                .await?;
        }
        let answer = run_line(app, user, line).await;
        out.write_all(format!("{answer}\n\n").as_bytes()).await?;
        out.flush().await?;
    }
    Ok(())
}
