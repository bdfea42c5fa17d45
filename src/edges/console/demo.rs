//! `dunbot demo`: a realistic sample portfolio relative to today, so the bot shows something
//! useful on a fresh machine within a minute. Seeded once; running it again reuses the data.
use crate::app::{Actor, App, Invocation, Platform, Source, admin};
use crate::domain::money::{Currency, Money};
use crate::domain::roles::Role;
use crate::import::{CustomerRow, InvoiceRow, PaymentRow};
use crate::store::{import, ledger};
use anyhow::{Result, bail};
use chrono::{Days, NaiveDate};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// People greeted by name in the sample customers' reminders.
const CONTACTS: &[&str] = &[
    "Jane Smith",
    "Omar Haddad",
    "Mei Chen",
    "Lukas Weber",
    "Ana Souza",
    "Priya Nair",
];

const FIRST: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Cyberdyne",
    "Tyrell",
    "Gringotts",
    "Monarch",
    "Pied Piper",
    "Dunder",
    "Sterling",
    "Oceanic",
    "Massive",
    "Nakatomi",
    "Duff",
    "Krusty",
    "Ollivander",
    "Bluth",
    "Prestige",
    "Virtucon",
    "Genco",
    "Ajax",
    "Zorg",
    "Blue Sun",
];
const SECOND: &[&str] = &[
    "Industries",
    "Logistics",
    "Foods",
    "Systems",
    "Trading",
    "Health",
    "Media",
    "Labs",
    "Freight",
    "Supply",
];
const OWNERS: &[&str] = &["maria", "tom", "priya", "li"];

/// Seeds `customers` accounts with invoices and payments around `today`, plus one agency.
/// Returns `false` when the ledger already had accounts (nothing is added then).
pub async fn seed(app: &App, today: NaiveDate, customers: usize, seed: u64) -> Result<bool> {
    let mut tx = app.store.begin().await?;
    if ledger::account_by_code(&mut tx, "ACME-001", false)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    let usd = Currency::parse("USD")?;
    let eur = Currency::parse("EUR")?;
    let gbp = Currency::parse("GBP")?;
    let mut cust = Vec::new();
    let mut invs = Vec::new();
    let mut pays = Vec::new();
    let mut line = 1;
    for n in 0..customers {
        let first = FIRST[n % FIRST.len()];
        let name = format!("{first} {}", SECOND[(n / FIRST.len() + n) % SECOND.len()]);
        let code = format!(
            "{}-{:03}",
            first
                .replace(' ', "")
                .to_ascii_uppercase()
                .chars()
                .take(4)
                .collect::<String>(),
            n / FIRST.len() + 1
        );
        let (currency, tz) = match rng.random_range(0..10) {
            0..=6 => (usd, "America/New_York"),
            7 | 8 => (eur, "Europe/Berlin"),
            _ => (gbp, "Europe/London"),
        };
        line += 1;
        cust.push(CustomerRow {
            line,
            account: code.clone(),
            name: name.clone(),
            email: Some(format!(
                "ap@{}.example",
                name.to_ascii_lowercase().replace(' ', "-")
            )),
            phone: Some(format!("+1-555-{:04}", rng.random_range(0..10_000))),
            currency,
            time_zone: tz.into(),
            owner: Some(OWNERS[n % OWNERS.len()].into()),
            do_not_contact: rng.random_ratio(1, 40),
            // Half the sample customers name the person reminders greet.
            contact_name: (n % 2 == 0).then(|| CONTACTS[n % CONTACTS.len()].to_string()),
            sms_consent: None,
        });
        let late_payer = rng.random_ratio(1, 4);
        for k in 0..rng.random_range(4..14) {
            let issued = today - Days::new(rng.random_range(0..150)) + Days::new(10);
            let due = issued + Days::new(30);
            let amount = Money::new(rng.random_range(200..25_000) * 100, currency);
            let number = format!("INV-{:05}", n * 20 + k + 1000);
            line += 1;
            invs.push(InvoiceRow {
                line,
                account: code.clone(),
                invoice: number.clone(),
                issued,
                due,
                amount,
            });
            // Most invoices due a while ago are paid; late payers pay after the due date.
            if due + Days::new(25) < today && rng.random_ratio(4, 5)
                || due < today && rng.random_ratio(1, 3)
            {
                let offset: i64 = if late_payer {
                    rng.random_range(3..40)
                } else {
                    rng.random_range(-12..3)
                };
                let paid_on = (due + chrono::Duration::days(offset)).min(today);
                pays.push(PaymentRow {
                    line,
                    account: code.clone(),
                    invoice: number,
                    paid_on,
                    amount,
                    reference: format!("PAY-{line}"),
                });
            }
        }
    }
    if let Err(rows) = import::customers(&mut tx, &cust).await? {
        bail!("demo customers: {:?}", rows.first());
    }
    if let Err(rows) = import::invoices(&mut tx, &invs).await? {
        bail!("demo invoices: {:?}", rows.first());
    }
    if let Err(rows) = import::payments(&mut tx, &pays).await? {
        bail!("demo payments: {:?}", rows.first());
    }
    tx.commit().await?;
    admin::add_agency(
        app,
        "Northwind Recovery",
        None,
        None,
        Some("console:agency"),
    )
    .await?;
    crate::store::schedule::upsert_subscription(
        &mut *app.store.pool.acquire().await?,
        &app.settings.digest_channel,
        &app.settings.digest_cron,
        app.settings.time_zone.name(),
    )
    .await?;

    // A few things a team would have done already, through the same commands people use.
    let script = [
        (
            "maria",
            Role::Collector,
            "promise ACME-001 500.00 +3d agreed on the phone with their AP lead",
        ),
        ("tom", Role::Collector, "promise GLOB-001 250.00 tomorrow"),
        (
            "priya",
            Role::Manager,
            "refer INIT-001 \"Northwind Recovery\"",
        ),
        (
            "sam",
            Role::Collector,
            "offer INIT-001 1000.00 debtor offers a lump sum this week",
        ),
        (
            "maria",
            Role::Collector,
            "flag UMBR-001 three missed calls, CFO unreachable",
        ),
    ];
    for (i, (who, role, line)) in script.iter().enumerate() {
        let inv = Invocation {
            actor: Actor {
                platform: Platform::Console,
                user_id: who.to_string(),
                name: who.to_string(),
                roles: vec![*role],
                agency: None,
            },
            channel: "console:local".into(),
            request_id: format!("demo-seed-{i}"),
            text: line.to_string(),
            source: Source::Command,
            now: app.now(),
            as_of: Some(today),
        };
        let out = app.handle(inv).await;
        if out.refused {
            tracing::debug!(
                line,
                reply = out.reply.text,
                "demo step refused (sample data varies)"
            );
        }
    }
    Ok(true)
}
