//! The `dunbot` command line.
use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, Utc};
use clap::{Parser, Subcommand};
use dunbot::app::App;
use dunbot::app::admin::{self, ImportKind};
use dunbot::config::Settings;
use dunbot::domain::roles::Role;
use dunbot::edges::console::{self, ConsoleUser};
use dunbot::store::{self, Store};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "dunbot",
    version,
    about = "Chat-ops collections bot for accounts-receivable teams"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Seed a sample portfolio (once), print today's digest and open the console.
    Demo {
        /// How many sample customers.
        #[arg(long, default_value_t = 300)]
        customers: usize,
        /// Print the digest and exit without the console.
        #[arg(long)]
        no_console: bool,
    },
    /// Type `ar ...` commands (from a terminal or a pipe) and read the answers.
    Console {
        /// Your name in the action log.
        #[arg(long = "as", default_value_t = whoami())]
        name: String,
        /// Your role: collector, manager, agency or admin.
        #[arg(long, default_value = "admin")]
        role: String,
        /// With --role agency: the agency you act for.
        #[arg(long)]
        agency: Option<String>,
        /// Act as of this date (YYYY-MM-DD) instead of today.
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Run the scheduler (daily digests) and the outbox worker.
    Serve,
    /// Apply database migrations.
    Migrate,
    /// Print the digest.
    Digest {
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Collections metrics for a period: DSO (standard, countback), best possible DSO, average
    /// days delinquent, CEI, percent current, promise-kept rate, reminder response, per collector.
    Metrics {
        /// 30d (default), 90d, quarter, month, year, 2026-11, 2026-Q3 or 2026.
        period: Option<String>,
        /// The date the figures are as of (YYYY-MM-DD); default today.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// The report as one JSON object (see the README's Metrics section).
        #[arg(long)]
        json: bool,
    },
    /// Queue the day's automatic reminders now (what `serve` does each business day); safe to
    /// rerun: nothing is queued twice.
    Autoplan {
        /// The business day to run for (YYYY-MM-DD); default today.
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Backfill the ledger from a billing system: `dunbot sync stripe [--since DATE]`.
    /// Resumes a run that stopped; shows progress on a terminal.
    Sync {
        source: SyncSource,
        /// Only objects created from then on: a date like 2026-11-01 or an age like 30d.
        #[arg(long)]
        since: Option<String>,
    },
    /// Import a CSV file: customers, invoices or payments.
    Import {
        kind: ImportKind,
        file: PathBuf,
        /// The business date the file is as of (a back-dated file): payments resolve
        /// promises-to-pay as of that day. Default: today.
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
    /// Print the action history.
    Log {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// From this date (YYYY-MM-DD) or this long ago (7d, 12h).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: i64,
    },
    /// Collection agencies.
    Agency {
        #[command(subcommand)]
        cmd: AgencyCmd,
    },
    /// API tokens for the ingest API (`/api/v1`).
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Roles of chat users.
    Role {
        #[command(subcommand)]
        cmd: RoleCmd,
    },
    /// Subscribe a channel to the daily digest.
    Subscribe {
        /// platform:id, e.g. slack:C0123ABC, discord:1234, console:local
        channel: String,
        /// Cron: `0 8 * * Mon-Fri` (five fields) or six fields with seconds [default: 0 8 * * Mon-Fri,
        /// or the channel's own when only --weekly or --case-threads is given]
        #[arg(long)]
        cron: Option<String>,
        /// IANA time zone, e.g. Europe/Berlin [default: UTC, or the channel's own]
        #[arg(long)]
        tz: Option<String>,
        /// The weekly summary's cron (default `0 8 * * Mon`, in the same zone), or `off`.
        #[arg(long)]
        weekly: Option<String>,
        /// A case-file thread per account in this channel (default on).
        #[arg(long, value_enum)]
        case_threads: Option<Switch>,
    },
    /// Charts as PNG files: `dunbot chart aging --out aging.png`.
    Chart {
        #[command(subcommand)]
        which: ChartCmd,
    },
    /// Messages waiting, sent or given up in the outbox.
    Outbox {
        /// pending, sent, dead, or dropped (reminders the send-time check stopped, with why)
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Print a platform's app manifest, generated from commands/.
    Manifest {
        #[command(subcommand)]
        which: ManifestCmd,
    },
}

#[derive(Subcommand)]
enum ManifestCmd {
    /// The Slack app manifest (JSON): Socket Mode, or HTTP request URLs with --url.
    Slack {
        /// Public base URL of `dunbot serve` for HTTP mode, e.g. https://bot.example.com
        /// (default: DUNBOT_PUBLIC_URL; neither means Socket Mode).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Switch {
    On,
    Off,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum SyncSource {
    Stripe,
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Make a token; it is printed once and only its hash is kept.
    Create {
        /// Who will call with it, e.g. billing-sync.
        name: String,
    },
    /// Every token's name, when it was made and whether it is revoked.
    List,
    /// Refuse the token from now on.
    Revoke { name: String },
}

#[derive(Subcommand)]
enum AgencyCmd {
    /// Add (or update) an agency.
    Add {
        name: String,
        /// Where decisions are posted (signed with the agency's secret).
        #[arg(long)]
        webhook: Option<String>,
        /// The webhook's HMAC secret; generated when omitted.
        #[arg(long)]
        secret: Option<String>,
        /// The agency's chat channel, platform:id.
        #[arg(long)]
        channel: Option<String>,
    },
    List,
}

#[derive(Subcommand)]
enum ChartCmd {
    /// AR by aging bucket stacked per week, with DSO as a line (the weekly summary's chart).
    Aging {
        /// The PNG file to write.
        #[arg(long)]
        out: PathBuf,
        /// How many weeks, up to 104.
        #[arg(long, default_value_t = 12)]
        weeks: usize,
        /// The last week's end (YYYY-MM-DD); default today.
        #[arg(long)]
        as_of: Option<NaiveDate>,
        /// The currency to draw; default the one with the most owed.
        #[arg(long)]
        currency: Option<String>,
    },
}

#[derive(Subcommand)]
enum RoleCmd {
    /// Grant ROLE to a chat USER id.
    Grant {
        user: String,
        role: String,
        /// slack, discord or console
        #[arg(long, default_value = "slack")]
        platform: String,
        #[arg(long)]
        agency: Option<String>,
    },
    List,
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "operator".into())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,dunbot=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("dunbot: {e:#}");
        std::process::exit(1);
    }
}

async fn open(settings: Settings) -> Result<App> {
    let url = dunbot::db::resolve(settings.database_url.as_deref()).await?;
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    Ok(App::new(settings, store))
}

fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s)
        .with_context(|| format!("{s:?} is not a role; use collector, manager, agency or admin"))
}

async fn run(cli: Cli) -> Result<()> {
    let settings = Settings::from_env()?;
    match cli.cmd {
        Cmd::Migrate => {
            open(settings).await?;
            println!("migrations applied");
        }
        Cmd::Demo {
            customers,
            no_console,
        } => {
            let app = open(settings).await?;
            let today = app.today();
            eprintln!("Setting up the sample portfolio…");
            if dunbot::edges::console::demo::seed(&app, today, customers, 7).await? {
                eprintln!(
                    "Seeded {customers} customers with invoices, payments, promises and one agency."
                );
            } else {
                eprintln!("The sample portfolio is already there; using it.");
            }
            let user = ConsoleUser {
                name: whoami(),
                roles: vec![Role::Admin],
                agency: None,
                as_of: None,
            };
            println!("{}", console::run_line(&app, &user, "digest").await);
            if !no_console {
                console::run(&app, &user).await?;
            }
        }
        Cmd::Console {
            name,
            role,
            agency,
            as_of,
        } => {
            let role = parse_role(&role)?;
            let app = open(settings).await?;
            console::run(
                &app,
                &ConsoleUser {
                    name,
                    roles: vec![role],
                    agency,
                    as_of,
                },
            )
            .await?;
        }
        Cmd::Serve => {
            let app = open(settings).await?;
            dunbot::edges::serve::run(Arc::new(app)).await?;
        }
        Cmd::Digest { as_of } => {
            let app = open(settings).await?;
            let user = ConsoleUser {
                name: whoami(),
                roles: vec![Role::Admin],
                agency: None,
                as_of,
            };
            println!("{}", console::run_line(&app, &user, "digest").await);
        }
        Cmd::Metrics {
            period,
            as_of,
            json,
        } => {
            let app = open(settings).await?;
            let as_of = as_of.unwrap_or_else(|| app.today());
            let period = dunbot::domain::metrics::parse_period(period.as_deref(), as_of)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut conn = app.store.pool.acquire().await?;
            let report = dunbot::app::metrics::compute(&mut conn, &app.settings, period).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "{}",
                    console::render::render(&dunbot::app::metrics::render(&report))
                );
            }
        }
        Cmd::Autoplan { as_of } => {
            let app = open(settings).await?;
            let now = app.now();
            let date = as_of.unwrap_or_else(|| app.settings.today(now));
            if !app.settings.calendar.is_business_day(date) {
                println!("{date} is not a business day: no automatic reminders.");
            } else {
                let r = dunbot::app::autoplan::run(&app, date, now).await?;
                println!(
                    "{date}: {} reminders queued, {} already queued before, {} refused (see dunbot log).",
                    r.queued, r.already, r.refused
                );
            }
        }
        Cmd::Sync { source, since } => {
            let SyncSource::Stripe = source;
            let since = since.map(|s| parse_since(&s)).transpose()?;
            let client = dunbot::edges::stripe::sync::Client::from_env()?;
            let app = open(settings).await?;
            match dunbot::edges::stripe::sync::sync(&app, &client, since, true).await? {
                dunbot::edges::stripe::sync::SyncReport::Busy => {
                    println!("Another dunbot is syncing Stripe right now; nothing done here.")
                }
                dunbot::edges::stripe::sync::SyncReport::Done {
                    pages,
                    objects,
                    resumed,
                } => println!(
                    "Stripe: {objects} objects in {pages} pages applied{}.",
                    if resumed {
                        " (resumed where the last run stopped)"
                    } else {
                        ""
                    }
                ),
            }
        }
        Cmd::Import { kind, file, as_of } => {
            let app = open(settings).await?;
            let bar = import_progress(&file);
            let tick = bar.clone().map(|b| {
                Arc::new(move |lines: u64| b.set_position(lines.saturating_sub(1)))
                    as dunbot::import::Progress
            });
            let result = admin::import_file_with_progress(&app, kind, &file, as_of, tick).await;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            match result? {
                Ok(c) => println!(
                    "{}: {} new, {} already there",
                    file.display(),
                    c.inserted,
                    c.unchanged
                ),
                Err(rows) => {
                    eprintln!(
                        "{} was not imported: {} bad row(s). Nothing was written.",
                        file.display(),
                        rows.len()
                    );
                    for r in &rows {
                        eprintln!("  {r}");
                    }
                    std::process::exit(2);
                }
            }
        }
        Cmd::Log { json, since, limit } => {
            let app = open(settings).await?;
            let since = since.map(|s| parse_since(&s)).transpose()?;
            let mut conn = app.store.pool.acquire().await?;
            for a in store::actions::list(&mut conn, since, limit).await? {
                if json {
                    println!("{}", serde_json::to_string(&a)?);
                } else {
                    println!(
                        "{} {:<8} {:<18} {:<8} {:<10} {:<14} {}",
                        a.at.format("%Y-%m-%d %H:%M:%S"),
                        a.actor_platform,
                        a.actor_name,
                        a.outcome,
                        a.kind,
                        a.subject.unwrap_or_default(),
                        a.details["command"].as_str().unwrap_or_default()
                    );
                }
            }
        }
        Cmd::Token { cmd } => {
            let app = open(settings).await?;
            match cmd {
                TokenCmd::Create { name } => {
                    let token = dunbot::app::api::create_token(&app, &name).await?;
                    eprintln!(
                        "token {name} created; it is shown only this once: store it where the caller keeps secrets"
                    );
                    println!("{token}");
                }
                TokenCmd::List => {
                    for t in dunbot::app::api::list_tokens(&app).await? {
                        let state = match t.revoked_at {
                            Some(at) => format!("revoked {}", at.format("%Y-%m-%d %H:%M")),
                            None => "live".into(),
                        };
                        println!(
                            "{:<32} created {}  {state}",
                            t.name,
                            t.created_at.format("%Y-%m-%d %H:%M")
                        );
                    }
                }
                TokenCmd::Revoke { name } => {
                    dunbot::app::api::revoke_token(&app, &name).await?;
                    println!("token {name} revoked");
                }
            }
        }
        Cmd::Agency { cmd } => {
            let app = open(settings).await?;
            match cmd {
                AgencyCmd::Add {
                    name,
                    webhook,
                    secret,
                    channel,
                } => {
                    let id = admin::add_agency(
                        &app,
                        &name,
                        webhook.as_deref(),
                        secret.as_deref(),
                        channel.as_deref(),
                    )
                    .await?;
                    println!("agency {id}: {name}");
                }
                AgencyCmd::List => {
                    let mut conn = app.store.pool.acquire().await?;
                    for a in store::collections::list_agencies(&mut conn).await? {
                        println!(
                            "{:<4} {:<28} webhook: {:<40} channel: {}",
                            a.id,
                            a.name,
                            a.webhook_url.unwrap_or("-".into()),
                            a.channel.unwrap_or("-".into())
                        );
                    }
                }
            }
        }
        Cmd::Role { cmd } => {
            let app = open(settings).await?;
            match cmd {
                RoleCmd::Grant {
                    user,
                    role,
                    platform,
                    agency,
                } => {
                    if !["slack", "discord", "console"].contains(&platform.as_str()) {
                        bail!("--platform is slack, discord or console");
                    }
                    let role = parse_role(&role)?;
                    let changed =
                        admin::grant_role(&app, &platform, &user, role, agency.as_deref()).await?;
                    println!(
                        "{platform} user {user}: {} {}",
                        role.key(),
                        if changed {
                            "granted"
                        } else {
                            "(already had it)"
                        }
                    );
                }
                RoleCmd::List => {
                    let mut conn = app.store.pool.acquire().await?;
                    for (p, u, r, a) in store::people::list(&mut conn).await? {
                        println!("{p:<8} {u:<20} {r:<10} {}", a.unwrap_or_default());
                    }
                }
            }
        }
        Cmd::Subscribe {
            channel,
            cron,
            tz,
            weekly,
            case_threads,
        } => {
            // Only --weekly or --case-threads on a subscribed channel keeps its digest schedule.
            let schedule_given = cron.is_some() || tz.is_some();
            let cron = cron.unwrap_or_else(|| "0 8 * * Mon-Fri".into());
            let tz = tz.unwrap_or_else(|| "UTC".into());
            dunbot::domain::cron::parse(&cron).map_err(anyhow::Error::msg)?;
            let weekly = match weekly.as_deref().map(str::trim) {
                None => None,
                Some("off") => Some(None),
                Some(w) => {
                    dunbot::domain::cron::parse(w)
                        .map_err(|e| anyhow::anyhow!("--weekly: {e}; or `off`"))?;
                    Some(Some(w.to_string()))
                }
            };
            let zone: chrono_tz::Tz = tz.parse().map_err(|_| {
                anyhow::anyhow!("{tz:?} is not an IANA time zone such as Europe/Berlin")
            })?;
            if !channel.contains(':') {
                bail!("the channel is platform:id, e.g. slack:C0123ABC");
            }
            let app = open(settings).await?;
            let mut conn = app.store.pool.acquire().await?;
            let subscribed = store::schedule::subscriptions(&mut conn)
                .await?
                .iter()
                .any(|s| s.channel == channel);
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            if schedule_given || (case_threads.is_none() && weekly.is_none()) || !subscribed {
                store::schedule::upsert_subscription(&mut tx, &channel, &cron, zone.name()).await?;
                println!("{channel}: digest at `{cron}` ({})", zone.name());
            }
            if let Some(w) = &weekly {
                store::weekly::set_cron(&mut tx, &channel, w.as_deref()).await?;
            }
            if let Some(switch) = case_threads {
                let on = switch == Switch::On;
                store::case_threads::set_enabled(&mut tx, &channel, on).await?;
                println!(
                    "{channel}: case-file threads {}",
                    if on { "on" } else { "off" }
                );
            }
            tx.commit().await?;
            let mut conn = app.store.pool.acquire().await?;
            let now_weekly = store::weekly::subscriptions(&mut conn)
                .await?
                .into_iter()
                .find(|s| s.channel == channel);
            match now_weekly {
                Some(s) => println!("{channel}: weekly summary at `{}`", s.weekly_cron),
                None => println!("{channel}: weekly summary off"),
            }
        }
        Cmd::Chart {
            which:
                ChartCmd::Aging {
                    out,
                    weeks,
                    as_of,
                    currency,
                },
        } => {
            if out.extension().and_then(|e| e.to_str()) != Some("png") {
                bail!("--out {}: name a .png file, e.g. aging.png", out.display());
            }
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
                && !dir.is_dir()
            {
                bail!(
                    "--out {}: the folder {} does not exist",
                    out.display(),
                    dir.display()
                );
            }
            let app = open(settings).await?;
            let last = as_of.unwrap_or_else(|| app.today());
            let mut conn = app.store.pool.acquire().await?;
            let series = dunbot::app::weekly::series(
                &mut conn,
                &app.settings,
                last,
                weeks,
                currency.as_deref(),
            )
            .await?
            .map_err(anyhow::Error::msg)?;
            let png = dunbot::chart::aging_png(&series).map_err(anyhow::Error::msg)?;
            std::fs::write(&out, &png).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{}: AR in {} by age over {} weeks to {last}, with DSO ({} bytes)",
                out.display(),
                series.currency,
                series.weeks.len(),
                png.len()
            );
        }
        Cmd::Outbox { status, limit } => {
            let app = open(settings).await?;
            let mut conn = app.store.pool.acquire().await?;
            for (s, n) in store::outbox::counts(&mut conn).await? {
                println!("{s}: {n}");
            }
            for r in store::outbox::list(&mut conn, status.as_deref(), limit).await? {
                println!(
                    "{:<6} {:<8} {:<8} tries {:<2} {:<36} {}",
                    r.id,
                    r.kind,
                    r.status,
                    r.attempts,
                    r.dedupe_key,
                    r.last_error.unwrap_or_default()
                );
            }
        }
        Cmd::Manifest {
            which: ManifestCmd::Slack { url },
        } => {
            let url = url.or(dunbot::edges::slack::SlackConfig::from_env().public_url);
            let m = dunbot::edges::slack::manifest::manifest(
                dunbot::commands::registry(),
                &settings.command_root,
                url.as_deref(),
            );
            println!("{}", serde_json::to_string_pretty(&m)?);
        }
    }
    Ok(())
}

/// A progress bar for importing `file` (rows read, rate, time left) on standard error, or
/// `None` when standard error is not a terminal: a script or a log file gets only the result.
fn import_progress(file: &std::path::Path) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let lines = std::fs::read(file)
        .ok()?
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64;
    let bar = indicatif::ProgressBar::new(lines.saturating_sub(1));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {human_pos}/{human_len} rows  {rate} rows/s  {eta} left  {wide_bar}",
        )
        .ok()?
        .with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}", s.per_sec());
            },
        ),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

fn parse_since(s: &str) -> Result<chrono::DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| {
        anyhow::anyhow!("--since {s:?}: use a date like 2026-11-01 or an age like 7d or 12h")
    })?;
    Ok(Utc::now()
        - match unit {
            "d" => chrono::Duration::days(n),
            "h" => chrono::Duration::hours(n),
            "m" => chrono::Duration::minutes(n),
            _ => bail!("--since {s:?}: use a date like 2026-11-01 or an age like 7d or 12h"),
        })
}
