//! The weekly summary: last ISO week's metrics against the week before (each figure with its
//! direction and whether that is good), and the aging chart's series. Built in the scheduler's
//! transaction from the ledger; drawn to PNG only by the deliverer (`crate::chart`).
use super::metrics::{CurrencyReport, Report, compute};
use crate::config::Settings;
use crate::domain::metrics::{Period, Ratio};
use crate::domain::money::{Currency, Money};
use crate::domain::weekly::{
    self, AgingSeries, Better, CHART_WEEKS, MAX_CHART_WEEKS, describe, reported_week, trend,
};
use crate::message::{Block, Message, Visibility};
use crate::store::weekly as store;
use chrono::{Datelike, NaiveDate};
use sqlx::PgConnection;

/// What a weekly post carries: the summary, and the chart's series (none when nothing is owed).
#[derive(Debug, Clone)]
pub struct Summary {
    pub message: Message,
    pub chart: Option<AgingSeries>,
}

fn week_period(start: NaiveDate, end: NaiveDate) -> Period {
    let w = start.iso_week();
    Period {
        start,
        end,
        label: format!("week {} of {}", w.week(), w.year()),
    }
}

/// The post for a run on `run_date` (late: dunbot was down when it was due).
pub async fn summary(
    conn: &mut PgConnection,
    settings: &Settings,
    run_date: NaiveDate,
    late: bool,
) -> anyhow::Result<Summary> {
    let (start, end) = reported_week(run_date);
    let this = compute(conn, settings, week_period(start, end)).await?;
    let days = chrono::Days::new(7);
    let before = compute(conn, settings, week_period(start - days, end - days)).await?;
    let chart = series(conn, settings, end, CHART_WEEKS, None).await?.ok();
    Ok(Summary {
        message: render(&this, &before, chart.as_ref(), late),
        chart,
    })
}

/// The chart's series: `weeks` week ends up to `last`, in `currency` or (none given) the one
/// with the most owed at `last`. `Err` says to the person why there is nothing to draw.
pub async fn series(
    conn: &mut PgConnection,
    settings: &Settings,
    last: NaiveDate,
    weeks: usize,
    currency: Option<&str>,
) -> anyhow::Result<Result<AgingSeries, String>> {
    if !(1..=MAX_CHART_WEEKS).contains(&weeks) {
        return Ok(Err(format!(
            "--weeks {weeks}: draw from 1 to {MAX_CHART_WEEKS} weeks (default {CHART_WEEKS})"
        )));
    }
    let wanted = match currency {
        Some(c) => match Currency::parse(c) {
            Ok(c) => Some(c.to_string()),
            Err(_) => {
                return Ok(Err(format!(
                    "{c:?} is not an ISO 4217 currency code such as USD or EUR"
                )));
            }
        },
        None => None,
    };
    let ends = weekly::week_ends(last, weeks);
    let rows = store::aging_at(conn, &ends, settings.time_zone.name(), 7).await?;
    let currency = match wanted {
        Some(c) if rows.iter().any(|r| r.currency == c) => c,
        Some(c) => {
            let mut known: Vec<&str> = rows.iter().map(|r| r.currency.as_str()).collect();
            known.sort();
            known.dedup();
            return Ok(Err(if known.is_empty() {
                format!("No invoices in {c} up to {last}: nothing to draw.")
            } else {
                format!(
                    "No invoices in {c} up to {last}; the ledger has {}.",
                    known.join(", ")
                )
            }));
        }
        None => match weekly::main_currency(&rows, last) {
            Some(c) => c,
            None => {
                return Ok(Err(format!(
                    "Nothing is owed as of {last}: nothing to draw."
                )));
            }
        },
    };
    Ok(Ok(weekly::series(&rows, &ends, &currency)))
}

fn show(r: &Option<Ratio>, unit: &str) -> String {
    r.map_or("n/a".into(), |r| format!("{r}{unit}"))
}

/// "42.0 days ▼ from 45.1, better".
fn figure(now: Option<Ratio>, before: Option<Ratio>, unit: &str, better: Better) -> String {
    let moved = describe(trend(now, before, better), before);
    if moved.is_empty() {
        show(&now, unit)
    } else {
        format!("{} {moved}", show(&now, unit))
    }
}

fn money(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(minor, c).to_string(),
        Err(_) => format!("{minor} {currency}"),
    }
}

/// AR is a figure too: lower is better (less owed), compared exactly.
fn owed(now: i64, before: Option<i64>, currency: &str) -> String {
    let shown = money(now, currency);
    match before {
        Some(b) if b != now => format!(
            "{shown} {} from {}, {}",
            if now < b { "▼" } else { "▲" },
            money(b, currency),
            if now < b { "better" } else { "worse" }
        ),
        Some(_) => format!("{shown} = as the week before"),
        None => shown,
    }
}

fn currency_fields(c: &CurrencyReport, prev: Option<&CurrencyReport>) -> Vec<(String, String)> {
    let (f, p) = (&c.figures, prev.map(|p| &p.figures));
    let cur = c.currency.as_str();
    vec![
        (
            "DSO".into(),
            figure(f.dso, p.and_then(|p| p.dso), " days", Better::Lower),
        ),
        (
            "Best possible DSO".into(),
            figure(
                f.best_possible_dso,
                p.and_then(|p| p.best_possible_dso),
                " days",
                Better::Lower,
            ),
        ),
        (
            "Average days delinquent".into(),
            figure(
                f.average_days_delinquent,
                p.and_then(|p| p.average_days_delinquent),
                " days",
                Better::Lower,
            ),
        ),
        (
            "CEI".into(),
            figure(f.cei, p.and_then(|p| p.cei), "%", Better::Higher),
        ),
        (
            "Current".into(),
            figure(
                f.percent_current,
                p.and_then(|p| p.percent_current),
                "%",
                Better::Higher,
            ),
        ),
        (
            "AR at week end".into(),
            owed(c.ar_end_minor, prev.map(|p| p.ar_end_minor), cur),
        ),
    ]
}

/// The summary card: per currency, each figure against the week before.
pub fn render(this: &Report, before: &Report, chart: Option<&AgingSeries>, late: bool) -> Message {
    let p = &this.period;
    let title = format!("Weekly summary, {} ({} to {})", p.label, p.start, p.end);
    let mut blocks = vec![Block::Header {
        text: title.clone(),
    }];
    if late {
        blocks.push(Block::Context {
            text: "Posted late: dunbot was not running when it was due.".into(),
        });
    }
    for c in &this.currencies {
        let prev = before.currencies.iter().find(|b| b.currency == c.currency);
        blocks.push(Block::Text {
            text: format!("*{}*", c.currency),
        });
        blocks.push(Block::Fields {
            fields: currency_fields(c, prev),
        });
    }
    if this.currencies.is_empty() {
        blocks.push(Block::Text {
            text: "No invoices in the ledger up to this week.".into(),
        });
    }
    blocks.push(Block::Text {
        text: format!(
            "*Promises resolved*: {} kept, {} broken · kept rate {}",
            this.promises.kept,
            this.promises.broken,
            figure(
                this.promises.kept_rate,
                before.promises.kept_rate,
                "%",
                Better::Higher
            )
        ),
    });
    blocks.push(Block::Context {
        text: match chart {
            Some(s) => format!(
                "Chart: AR in {} by age, stacked per week over the last {} weeks, with DSO as a line. ▲/▼ compare with the week before; formulas in the README's Metrics section.",
                s.currency,
                s.weeks.len()
            ),
            None => "No chart: nothing is owed. ▲/▼ compare with the week before.".into(),
        },
    });
    Message {
        text: title,
        blocks,
        visibility: Visibility::Channel,
        ..Default::default()
    }
}
