//! Read-only commands: `ar account`, `ar aging`, `ar digest`, `ar help`.
use super::{Ctx, Done, Fail, args};
use crate::commands::{Parsed, help_for, help_index, registry};
use crate::config::Settings;
use crate::digest::{self, buttons_for};
use crate::domain::aging::Bucket;
use crate::domain::dates::count_of;
use crate::domain::money::{Currency, Money};
use crate::domain::policy::Pause;
use crate::domain::roles::permits;
use crate::message::{Block, Message, Visibility};
use crate::store::{actions, collections, ledger, snapshot};
use chrono::NaiveDate;
use sqlx::PgConnection;

/// What `ar account` shows, computed once: the chat card renders it and the ingest API
/// serializes it, so the two can never disagree.
pub struct AccountCard {
    pub account: ledger::Account,
    pub currency: Currency,
    /// The unpaid balance: open, disputed and with-agency invoices.
    pub balance_minor: i64,
    /// Unpaid amounts by aging bucket, in `Bucket::ALL` order.
    pub buckets: [(Bucket, i64); 5],
    /// The digest's standing for the account (none when nothing is unpaid).
    pub standing: Option<digest::Standing>,
    pub contact: Option<ledger::Contact>,
    /// Texts: consent for the contact's phone and the texts sent (`None`: no phone, no texts).
    pub texts: Option<String>,
    /// Unpaid invoices, oldest due first.
    pub invoices: Vec<ledger::Invoice>,
    pub promises: Vec<collections::Promise>,
    pub flag: Option<collections::Flag>,
    pub offers: Vec<collections::Offer>,
    /// The last five actions on the account, newest first.
    pub recent: Vec<actions::ActionRow>,
    agg: Option<snapshot::AccountAgg>,
    promise_facts: Vec<snapshot::PromiseFacts>,
}

/// The card of `acc` as of `today`.
pub async fn card(
    tx: &mut PgConnection,
    s: &Settings,
    today: NaiveDate,
    acc: ledger::Account,
) -> Result<AccountCard, Fail> {
    let cur = args::currency_of(&acc)?;
    let (balance, invoices) = args::balance(tx, acc.id).await?;
    let mut buckets = Bucket::ALL.map(|b| (b, 0i64));
    for i in invoices.iter() {
        let b = Bucket::for_days_past_due((today - i.due).num_days());
        buckets[Bucket::ALL.iter().position(|x| *x == b).unwrap_or(0)].1 += i.balance_minor();
    }
    // The same standing the digest computes, from the same aggregate.
    let due_soon_until = s.calendar.add_business_days(today, s.due_soon_days);
    let agg = snapshot::accounts(tx, today, due_soon_until, Some(acc.id))
        .await?
        .into_iter()
        .next();
    let promise_facts =
        snapshot::promises(tx, today - chrono::Days::new(365), Some(acc.id)).await?;
    let mine: Vec<_> = promise_facts.iter().collect();
    let standing = agg.as_ref().map(|a| digest::assess(a, &mine, s, today));
    let contact = ledger::primary_contact(tx, acc.id).await?;
    let texts =
        super::texts::card_line(tx, &acc, contact.as_ref().and_then(|c| c.phone.as_deref()))
            .await?;
    let promises = collections::promises_for_account(tx, acc.id).await?;
    let flag = collections::open_flag(tx, acc.id).await?;
    let offers = collections::offers_for_account(tx, acc.id).await?;
    let recent = actions::recent_for_subject(tx, &acc.code, 5).await?;
    Ok(AccountCard {
        account: acc,
        currency: cur,
        balance_minor: balance,
        buckets,
        standing,
        contact,
        texts,
        invoices,
        promises,
        flag,
        offers,
        recent,
        agg,
        promise_facts,
    })
}

pub async fn account(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), false).await?;
    let s = &ctx.app.settings;
    let c = card(tx, s, ctx.today, acc).await?;
    let (acc, cur, balance, invoices) = (&c.account, c.currency, c.balance_minor, &c.invoices);
    let standing = &c.standing;
    let mut fields = vec![
        ("Balance".to_string(), Money::new(balance, cur).to_string()),
        (
            "Owner".to_string(),
            acc.owner.clone().unwrap_or_else(|| "unassigned".into()),
        ),
    ];
    for (b, v) in c.buckets {
        if v != 0 {
            fields.push((b.label().to_string(), Money::new(v, cur).to_string()));
        }
    }
    if let Some(st) = standing {
        let stage = st.stage.map(|s| s.label()).unwrap_or("not started");
        fields.push(("Stage".into(), stage.to_string()));
        if let Some((next, on)) = st.view.as_ref().and_then(|v| v.next) {
            fields.push(("Next".into(), format!("{} on {on}", next.label())));
        }
        let plan = if st.track.is_repeat() {
            "repeat delinquent (faster plan)"
        } else {
            "first-time plan"
        };
        fields.push((
            "Track record".into(),
            format!(
                "{plan}: {}, {}",
                count_of(
                    st.track.past_delinquencies as usize,
                    "late invoice",
                    "late invoices"
                ),
                count_of(
                    st.track.broken_promises as usize,
                    "broken promise",
                    "broken promises"
                )
            ),
        ));
        fields.push(("Priority".into(), st.priority.to_string()));
        if let Some(p) = st.paused {
            let why = match p {
                Pause::Promise { until } => format!("promise to pay (until {until})"),
                Pause::Dispute => "every overdue invoice is disputed".into(),
                Pause::Hold { until: Some(u) } => format!("on hold until {u}"),
                Pause::Hold { until: None } => "on hold".into(),
                Pause::WithAgency => "with a collection agency".into(),
            };
            fields.push(("Paused".into(), why));
        }
    }
    if acc.do_not_contact {
        fields.push(("Contact".into(), "DO NOT CONTACT".into()));
    } else if let Some(ct) = c.contact.clone() {
        fields.push((
            "Contact".into(),
            [ct.name, ct.email, ct.phone]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    if let Some(t) = &c.texts {
        fields.push(("Texts".into(), t.clone()));
    }
    let mut blocks = vec![
        Block::Header {
            text: format!("{} — {}", acc.code, acc.name),
        },
        Block::Fields { fields },
    ];
    let mut lines = Vec::new();
    for i in invoices.iter().take(10) {
        lines.push(format!(
            "{} due {} · {} open · {}",
            i.number,
            i.due,
            Money::new(i.balance_minor(), cur),
            i.status.replace('_', " ")
        ));
    }
    if invoices.len() > 10 {
        lines.push(format!("…and {} more", invoices.len() - 10));
    }
    if !lines.is_empty() {
        blocks.push(Block::Text {
            text: format!("*Unpaid invoices*\n{}", lines.join("\n")),
        });
    }
    blocks.extend(super::confirm_receipt::card_block(tx, acc.id).await?);
    let (fees, fee_totals) = super::late_fees::account_summary(tx, s, invoices, ctx.today).await?;
    if !fees.is_empty() {
        let total: Vec<String> = fee_totals.iter().map(Money::format).collect();
        blocks.push(Block::Text {
            text: format!(
                "*Late fees and interest* (beyond the balance): {}\n{}",
                total.join(", "),
                fees.join("\n")
            ),
        });
    }
    if !c.promises.is_empty() {
        let l: Vec<String> = c
            .promises
            .iter()
            .take(5)
            .map(|p| {
                format!(
                    "{} by {} · {} (logged by {})",
                    Money::new(p.amount_minor, cur),
                    p.promised_for,
                    p.status,
                    p.logged_by
                )
            })
            .collect();
        blocks.push(Block::Text {
            text: format!("*Promises*\n{}", l.join("\n")),
        });
    }
    // The payment plan and what is left of it (`ar plan` shows the same).
    if let Some(plan) = crate::store::plans::latest_for_account(tx, acc.id).await? {
        blocks.extend(super::plans::schedule_blocks(tx, ctx, &plan).await?);
    }
    if let Some(f) = &c.flag {
        blocks.push(Block::Text {
            text: format!(
                "*Flagged for a management call* by {}: {}",
                f.flagged_by, f.reason
            ),
        });
    }
    for o in c.offers.iter().take(3) {
        blocks.push(Block::Text {
            text: format!(
                "*Offer {}*: {} · {}",
                o.id,
                Money::new(o.amount_minor, cur),
                o.status
            ),
        });
    }
    blocks.extend(super::calls::card_blocks(tx, acc, ctx.today, s.time_zone).await?);
    if !c.recent.is_empty() {
        let l: Vec<String> = c
            .recent
            .iter()
            .map(|a| {
                // A reminder the send-time check stopped says why ("not sent: paid since queued").
                let why = match a.details["reason"].as_str() {
                    Some(r) if a.kind == "reminder_dropped" => format!(": {r}"),
                    _ => String::new(),
                };
                format!(
                    "{} {} {} by {} ({}){why}",
                    a.at.format("%Y-%m-%d %H:%M"),
                    a.kind,
                    a.outcome,
                    a.actor_name,
                    a.actor_platform
                )
            })
            .collect();
        blocks.push(Block::Context {
            text: format!("Last actions: {}", l.join("; ")),
        });
    }
    // The same buttons, by the same rules, as the account's line in the digest.
    if let Some(a) = c.agg.as_ref().filter(|_| balance > 0 && !ctx.agency_only()) {
        let mine: Vec<_> = c.promise_facts.iter().collect();
        let buttons = buttons_for(&acc.code, digest::line_actions(a, &mine, s, ctx.today));
        if !buttons.is_empty() {
            blocks.push(Block::Item {
                text: "Actions".into(),
                buttons,
            });
        }
    }
    let text = format!(
        "{} — {}: {} open",
        acc.code,
        acc.name,
        Money::new(balance, cur)
    );
    Ok(Done::new(
        Message {
            text,
            blocks,
            visibility: Visibility::Ephemeral,
            ..Default::default()
        },
        Some(acc.code.clone()),
    ))
}

pub async fn aging(ctx: &Ctx<'_>, tx: &mut PgConnection) -> Result<Done, Fail> {
    let d = digest::compute(tx, &ctx.app.settings, ctx.today, None, false).await?;
    let mut blocks = vec![Block::Header {
        text: format!("Aging as of {}", ctx.today),
    }];
    for t in &d.totals {
        let mut fields = vec![(
            "Total".to_string(),
            format!(
                "{} ({})",
                Money::new(t.total, t.currency),
                count_of(t.accounts, "account", "accounts")
            ),
        )];
        for (b, v) in Bucket::ALL.iter().zip(t.buckets) {
            fields.push((b.label().to_string(), Money::new(v, t.currency).to_string()));
        }
        blocks.push(Block::Fields { fields });
    }
    for g in &d.overdue {
        let top: Vec<String> = g
            .ranked
            .items
            .iter()
            .take(5)
            .map(|l| format!("{} {}", l.code, l.amount))
            .collect();
        blocks.push(Block::Text {
            text: format!(
                "*{}*: {} — {}",
                g.bucket.label(),
                g.totals
                    .iter()
                    .map(|m| m.to_string())
                    .collect::<Vec<_>>()
                    .join(" + "),
                top.join(", ")
            ),
        });
    }
    if d.totals.is_empty() {
        blocks.push(Block::Text {
            text: "Nothing is owed.".into(),
        });
    }
    Ok(Done::new(
        Message {
            text: format!("Aging as of {}", ctx.today),
            blocks,
            visibility: Visibility::Ephemeral,
            ..Default::default()
        },
        None,
    ))
}

pub async fn digest(ctx: &Ctx<'_>, tx: &mut PgConnection) -> Result<Done, Fail> {
    let mut msg =
        digest::render(&digest::compute(tx, &ctx.app.settings, ctx.today, None, false).await?);
    msg.visibility = Visibility::Ephemeral;
    Ok(Done::new(msg, None))
}

pub fn help(ctx: &Ctx<'_>, p: &Parsed<'_>) -> Result<Done, Fail> {
    let reg = registry();
    let typing = ctx.typing();
    let may = |c: &crate::commands::CommandSpec| c.anyone || permits(&ctx.roles, &c.roles);
    let text = match p.get("command") {
        None => help_index(reg, typing, may),
        Some(name) => match reg.get(&name.trim_start_matches('/').to_ascii_lowercase()) {
            Some(spec) => help_for(spec, typing),
            None => {
                return Err(Fail::User(format!(
                    "There is no command `{name}`.\n{}",
                    help_index(reg, typing, may)
                )));
            }
        },
    };
    Ok(Done::new(Message::ephemeral(text), None))
}

impl AccountCard {
    /// The head of the account's case thread: who, what is owed, the stage and what is next —
    /// the figures of `ar account`, kept short because the thread below holds the story.
    pub fn thread_card(&self) -> Message {
        let (acc, cur) = (&self.account, self.currency);
        let balance = Money::new(self.balance_minor, cur).to_string();
        let stage = match (&self.standing, self.balance_minor) {
            (_, b) if b <= 0 => "paid up".to_string(),
            (Some(st), _) => st.stage.map(|s| s.label()).unwrap_or("not started").into(),
            (None, _) => "not started".into(),
        };
        let mut fields = vec![
            ("Balance".to_string(), balance.clone()),
            ("Stage".to_string(), stage.clone()),
            (
                "Owner".to_string(),
                acc.owner.clone().unwrap_or_else(|| "unassigned".into()),
            ),
        ];
        if let Some((next, on)) = self
            .standing
            .as_ref()
            .and_then(|st| st.view.as_ref())
            .and_then(|v| v.next)
        {
            fields.push(("Next".into(), format!("{} on {on}", next.label())));
        }
        Message {
            text: format!("{} — {}: {balance} open · {stage}", acc.code, acc.name),
            blocks: vec![
                Block::Header {
                    text: format!("{} — {}", acc.code, acc.name),
                },
                Block::Fields { fields },
                Block::Context {
                    text: "Case file: every step on this account is posted in this thread.".into(),
                },
            ],
            visibility: Visibility::Channel,
            ..Default::default()
        }
    }

    /// The next steps the digest offers for this account's broken promise `promise_id` (a
    /// missed plan installment when it belongs to a plan, or `None` for a broken plan).
    pub fn broken_steps(
        &self,
        s: &Settings,
        today: NaiveDate,
        promise_id: Option<i64>,
    ) -> Vec<crate::message::Button> {
        let Some(a) = &self.agg else {
            return vec![];
        };
        let mine: Vec<_> = self.promise_facts.iter().collect();
        let actions = digest::line_actions(a, &mine, s, today);
        let stage = self.standing.as_ref().and_then(|st| st.stage);
        let owed = Money::new(self.balance_minor, self.currency);
        match promise_id.map(|id| self.promise_facts.iter().find(|p| p.id == id)) {
            Some(Some(p)) if p.plan_id.is_none() => {
                digest::broken_promise_buttons(&digest::promise_line(p, actions, stage))
            }
            Some(None) => digest::broken_promise_buttons(&digest::PromiseLine {
                id: promise_id.unwrap_or_default(),
                code: self.account.code.clone(),
                name: self.account.name.clone(),
                amount: owed,
                promised_for: today,
                logged_by: String::new(),
                actions,
                owed,
                stage,
            }),
            _ => digest::broken_plan_buttons(&self.account.code, owed),
        }
    }
}
