//! `ar metrics [period] [as-of]` and `dunbot metrics`: the store's sums through the domain's
//! formulas into one report, shown as a card per currency (chat, console) or as JSON (CLI).
use super::{Ctx, Done, Fail};
use crate::commands::Parsed;
use crate::domain::dates::parse_date;
use crate::domain::metrics::{Figures, Period, Ratio, figures, parse_period, percent};
use crate::domain::money::{Currency, Money};
use crate::message::{Block, Message, Visibility};
use crate::store::metrics as sums;
use serde::Serialize;
use sqlx::PgConnection;
use std::collections::BTreeMap;

/// Everything `ar metrics` and `dunbot metrics --json` report. Its JSON is documented in the
/// README (amounts in minor units beside their currency, ratios as one-decimal strings, `null`
/// when a ratio has nothing to divide by); add fields, never rename them.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub period: Period,
    pub days: i64,
    pub currencies: Vec<CurrencyReport>,
    pub promises: Tally,
    pub reminders: Vec<ReminderResponse>,
    pub collectors: Vec<Collector>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CurrencyReport {
    pub currency: String,
    pub ar_begin_minor: i64,
    pub ar_end_minor: i64,
    pub ar_current_minor: i64,
    pub credit_sales_minor: i64,
    pub written_off_minor: i64,
    #[serde(flatten)]
    pub figures: Figures,
}

/// Promises resolved in the period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub kept: i64,
    pub broken: i64,
    /// kept / (kept + broken) × 100.
    pub kept_rate: Option<Ratio>,
}

impl Tally {
    fn new(kept: i64, broken: i64) -> Tally {
        Tally {
            kept,
            broken,
            kept_rate: percent(kept, kept + broken),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReminderResponse {
    pub stage: String,
    pub channel: String,
    pub reminded: i64,
    pub paid_within_7_days: i64,
    /// paid_within_7_days / reminded × 100.
    pub rate: Option<Ratio>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Collector {
    /// The accounts' owner; "" for accounts nobody owns.
    pub collector: String,
    /// Money received on their accounts in the period, per currency.
    pub collected: Vec<Collected>,
    pub promises: Tally,
}

#[derive(Debug, Clone, Serialize)]
pub struct Collected {
    pub currency: String,
    pub minor: i64,
}

/// The report for `period` (its end is the as-of date).
pub async fn compute(
    conn: &mut PgConnection,
    settings: &crate::config::Settings,
    period: Period,
) -> anyhow::Result<Report> {
    let tz = settings.time_zone.name();
    let days = period.days();
    let currencies = sums::ledger_sums(conn, &period, tz)
        .await?
        .into_iter()
        .map(|(currency, s)| CurrencyReport {
            currency,
            ar_begin_minor: s.ar_begin,
            ar_end_minor: s.ar_end,
            ar_current_minor: s.ar_current,
            credit_sales_minor: s.sales,
            written_off_minor: s.written_off,
            figures: figures(&s, days),
        })
        .collect();
    let mut people: BTreeMap<String, Collector> = BTreeMap::new();
    let (mut kept, mut broken) = (0, 0);
    let promise_rows = sums::promises(conn, &period, tz).await?;
    let collected_rows = sums::collected(conn, &period).await?;
    for (owner, k, b) in promise_rows {
        kept += k;
        broken += b;
        people
            .entry(owner.clone())
            .or_insert_with(|| collector(owner))
            .promises = Tally::new(k, b);
    }
    for (owner, currency, minor) in collected_rows {
        people
            .entry(owner.clone())
            .or_insert_with(|| collector(owner))
            .collected
            .push(Collected { currency, minor });
    }
    let reminders = sums::reminder_response(conn, &period, tz)
        .await?
        .into_iter()
        .map(|(stage, channel, reminded, paid)| ReminderResponse {
            stage,
            channel,
            reminded,
            paid_within_7_days: paid,
            rate: percent(paid, reminded),
        })
        .collect();
    Ok(Report {
        period,
        days,
        currencies,
        promises: Tally::new(kept, broken),
        reminders,
        collectors: people.into_values().collect(),
    })
}

fn collector(name: String) -> Collector {
    Collector {
        collector: name,
        collected: vec![],
        promises: Tally::default(),
    }
}

/// `ar metrics [period] [as-of]`: the period ends on the as-of date (default today).
pub async fn run(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let as_of = match p.get("as_of") {
        Some(t) => parse_date(t, ctx.today).map_err(Fail::User)?,
        None => ctx.today,
    };
    let period = parse_period(p.get("period"), as_of).map_err(|e| {
        Fail::User(format!(
            "{e} For example `{} 90d`, or `{} 2026-10 2026-11-30` as of a date.",
            ctx.typed("metrics"),
            ctx.typed("metrics")
        ))
    })?;
    let report = compute(tx, &ctx.app.settings, period).await?;
    Ok(Done::new(render(&report), None))
}

fn show(r: &Option<Ratio>, unit: &str) -> String {
    match r {
        Some(r) => format!("{r}{unit}"),
        None => "n/a".into(),
    }
}

fn money(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// A readable card: one block of figures per currency, then promises, reminders, collectors.
pub fn render(r: &Report) -> Message {
    let title = format!(
        "Metrics, {} ({} to {}, {} days)",
        r.period.label, r.period.start, r.period.end, r.days
    );
    let mut blocks = vec![Block::Header {
        text: title.clone(),
    }];
    for c in &r.currencies {
        let f = &c.figures;
        let cur = c.currency.as_str();
        blocks.push(Block::Text {
            text: format!("*{cur}*"),
        });
        blocks.push(Block::Fields {
            fields: vec![
                ("DSO".into(), show(&f.dso, " days")),
                ("Countback DSO".into(), format!("{} days", f.countback_dso)),
                (
                    "Best possible DSO".into(),
                    show(&f.best_possible_dso, " days"),
                ),
                (
                    "Average days delinquent".into(),
                    show(&f.average_days_delinquent, " days"),
                ),
                ("CEI".into(), show(&f.cei, "%")),
                ("Current".into(), show(&f.percent_current, "%")),
                ("AR at start".into(), money(c.ar_begin_minor, cur)),
                ("AR at end".into(), money(c.ar_end_minor, cur)),
                ("Current AR".into(), money(c.ar_current_minor, cur)),
                ("Credit sales".into(), money(c.credit_sales_minor, cur)),
                ("Written off".into(), money(c.written_off_minor, cur)),
            ],
        });
    }
    if r.currencies.is_empty() {
        blocks.push(Block::Text {
            text: "No invoices in the ledger up to this date.".into(),
        });
    }
    blocks.push(Block::Text {
        text: format!(
            "*Promises resolved*: {} kept, {} broken · kept rate {}",
            r.promises.kept,
            r.promises.broken,
            show(&r.promises.kept_rate, "%")
        ),
    });
    let lines: Vec<String> = r
        .reminders
        .iter()
        .map(|x| {
            format!(
                "{} by {}: {} of {} invoices paid within 7 days ({})",
                x.stage.replace('_', " "),
                x.channel,
                x.paid_within_7_days,
                x.reminded,
                show(&x.rate, "%")
            )
        })
        .collect();
    blocks.push(Block::Text {
        text: if lines.is_empty() {
            "*Reminder response*: no reminders queued in the period.".into()
        } else {
            format!("*Reminder response*\n{}", lines.join("\n"))
        },
    });
    let lines: Vec<String> = r
        .collectors
        .iter()
        .map(|c| {
            let got: Vec<String> = c
                .collected
                .iter()
                .map(|m| money(m.minor, &m.currency))
                .collect();
            let name = if c.collector.is_empty() {
                "unassigned"
            } else {
                &c.collector
            };
            format!(
                "{name}: collected {} · promises {} kept, {} broken",
                if got.is_empty() {
                    "nothing".to_string()
                } else {
                    got.join(" + ")
                },
                c.promises.kept,
                c.promises.broken
            )
        })
        .collect();
    if !lines.is_empty() {
        blocks.push(Block::Text {
            text: format!("*Per collector*\n{}", lines.join("\n")),
        });
    }
    blocks.push(Block::Context {
        text:
            "AR rebuilt from the ledger as of each date; formulas in the README's Metrics section."
                .into(),
    });
    Message {
        text: title,
        blocks,
        visibility: Visibility::Ephemeral,
        ..Default::default()
    }
}
