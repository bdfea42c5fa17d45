//! Payment plans (`ar plan`) on the real Postgres: refusals that write nothing, the pause while
//! a plan is on track, installments kept by payments and a missed one breaking the plan
//! (managers pinged, repeat plan, the digest's line), and approval of long plans.
use crate::support::*;
use dunbot::app::App;
use dunbot::app::automatic::resolve_promises;
use dunbot::digest;
use dunbot::domain::roles::Role;
use serde_json::Value;

/// Records a payment as the payments import does, judged on `on`.
pub async fn pay(app: &App, code: &str, invoice: &str, on: &str, amount: &str, reference: &str) {
    let dir = tempdir();
    let path = dir.join("pay.csv");
    std::fs::write(
        &path,
        format!(
            "account,invoice,paid_on,amount,currency,reference\n{code},{invoice},{on},{amount},USD,{reference}\n"
        ),
    )
    .unwrap();
    dunbot::app::admin::import_file(
        app,
        dunbot::app::admin::ImportKind::Payments,
        &path,
        Some(d(on)),
    )
    .await
    .unwrap()
    .unwrap();
}

/// The outbox payloads whose key starts with `prefix`, oldest first.
pub async fn outbox(app: &App, prefix: &str) -> Vec<Value> {
    sqlx::query_scalar("SELECT payload FROM outbox WHERE dedupe_key LIKE $1 || '%' ORDER BY id")
        .bind(prefix)
        .fetch_all(&app.store.pool)
        .await
        .unwrap()
}

/// `(status, installment, amount_minor)` of the plan installments' promise rows.
pub async fn installments(app: &App, code: &str) -> Vec<(String, i32, i64)> {
    sqlx::query_as(
        "SELECT p.status, p.installment, p.amount_minor FROM promises p JOIN accounts a ON a.id = p.account_id
          WHERE a.code = $1 AND p.plan_id IS NOT NULL ORDER BY p.installment",
    )
    .bind(code)
    .fetch_all(&app.store.pool)
    .await
    .unwrap()
}

pub async fn plan_status(app: &App, code: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT pl.status FROM plans pl JOIN accounts a ON a.id = pl.account_id WHERE a.code = $1 ORDER BY pl.id DESC LIMIT 1",
    )
    .bind(code)
    .fetch_optional(&app.store.pool)
    .await
    .unwrap()
}

fn all_text(m: &dunbot::message::Message) -> String {
    serde_json::to_string(m).unwrap()
}

#[tokio::test]
async fn bad_plans_are_refused_with_how_to_write_them_and_write_nothing() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let maria = person("maria", Role::Collector);
    // ACME owes 1,650.00 (1,250.00 + 400.00); today is Monday 2026-11-23.
    let cases = [
        (
            "plan ACME-001 2000 4 monthly 2026-12-15",
            "balance of USD 1,650.00",
        ),
        ("plan ACME-001 1200 4 monthly 2026-11-20", "in the past"),
        (
            "plan ACME-001 1200 0 monthly 2026-12-15",
            "at least 1 installment",
        ),
        (
            "plan ACME-001 1200 5000 weekly 2026-12-15",
            "more than a plan may have",
        ),
        (
            "plan ACME-001 1200 -2 weekly 2026-12-15",
            "not a number of installments",
        ),
        (
            "plan ACME-001 1200 four monthly 2026-12-15",
            "not a number of installments",
        ),
        ("plan ACME-001 1200 4 daily 2026-12-15", "weekly, biweekly"),
        (
            "plan ACME-001 0.03 4 weekly 2026-12-15",
            "fewer installments",
        ),
        ("plan ACME-001 1200 4", "needs the total"),
        ("plan ACME-001 1200 4 monthly someday", "someday"),
        ("plan NOPE-001 1200 4 monthly 2026-12-15", "no account"),
        ("plan ACME-001", "has no payment plan"),
        ("plan cancel ACME-001", "Say why"),
        (
            "plan cancel ACME-001 changed our minds",
            "no active payment plan",
        ),
    ];
    for (i, (line, want)) in cases.iter().enumerate() {
        let out = run_as(&app, &maria, &format!("bad-{i}"), line, today()).await;
        assert!(out.refused, "{line}: {:?}", out.reply.text);
        assert!(
            out.reply.text.contains(want),
            "{line}: wanted {want:?} in {:?}",
            out.reply.text
        );
    }
    assert_eq!(count(&app, "plans").await, 0);
    assert_eq!(count(&app, "promises").await, 0);
    assert_eq!(count(&app, "outbox").await, 0);

    // A good plan: 1,200.00 in 4 monthly installments of 300.00 from Tue 15 Dec.
    let out = run_as(
        &app,
        &maria,
        "plan-1",
        "plan ACME-001 1,200.00 4 monthly 2026-12-15 agreed with Jane",
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
    let reply = all_text(&out.reply);
    assert!(
        reply.contains("USD 1,200.00 in 4 monthly installments from 2026-12-15")
            && reply.contains("Chasing pauses")
            && reply.contains("4. 2027-03-15 · USD 300.00 · to pay"),
        "{reply}"
    );
    // Installment 1 is tracked as a promise of 300.00 by its date.
    assert_eq!(
        installments(&app, "ACME-001").await,
        [("pending".into(), 1, 30_000)]
    );
    // One plan at a time.
    let out = run_as(
        &app,
        &maria,
        "plan-2",
        "plan ACME-001 100 2 weekly 2026-12-01",
        today(),
    )
    .await;
    assert!(
        out.refused && out.reply.text.contains("already has payment plan"),
        "{:?}",
        out.reply.text
    );
    assert_eq!(count(&app, "plans").await, 1);
    // A loose promise beside the plan is refused: the installments are the promises.
    let out = run_as(&app, &maria, "pr-1", "promise ACME-001 100 fri", today()).await;
    assert!(
        out.refused
            && out.reply.text.contains("is on a payment plan")
            && out.reply.text.contains("plan cancel ACME-001"),
        "{:?}",
        out.reply.text
    );
    assert_eq!(count(&app, "promises").await, 1, "only installment 1");

    // On track: chasing pauses like a promise (a person may still force a reminder).
    let out = run_as(&app, &maria, "r-1", "remind ACME-001", today()).await;
    assert!(
        out.refused
            && out.reply.text.contains("is on a payment plan")
            && out.reply.text.contains("paused until 2026-12-17"),
        "{:?}",
        out.reply.text
    );
    // The card and `ar plan` show the plan and what is left.
    let card = run_as(&app, &maria, "card-1", "account ACME-001", today()).await;
    let card = all_text(&card.reply);
    assert!(
        card.contains("Installments") && card.contains("USD 1,200.00"),
        "{card}"
    );
    assert!(card.contains("on track, 0 of 4 paid"), "{card}");
    let show = run_as(&app, &maria, "show-1", "plan ACME-001", today()).await;
    assert!(!show.refused);
    let show = all_text(&show.reply);
    assert!(
        show.contains("1. 2026-12-15 · USD 300.00 · to pay"),
        "{show}"
    );
    // The automatic plan holds it back with the promise's reason.
    let mut conn = app.store.pool.acquire().await.unwrap();
    let st = {
        let snap = digest::load(&mut conn, &app.settings, today())
            .await
            .unwrap();
        let acme = snap.accounts.iter().find(|a| a.code == "ACME-001").unwrap();
        let mine: Vec<_> = snap
            .promises
            .iter()
            .filter(|p| p.account_id == acme.id)
            .collect();
        digest::assess(acme, &mine, &app.settings, today())
    };
    drop(conn);
    assert!(st.paused.is_some(), "{st:?}");

    // Cancelled: the pause ends at once, and the installment is no promise any more.
    let out = run_as(
        &app,
        &maria,
        "c-1",
        "plan cancel ACME-001 customer sold the business",
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
    assert!(
        out.reply.text.contains("customer sold the business")
            && out.reply.text.contains("Chasing resumes")
    );
    assert_eq!(
        plan_status(&app, "ACME-001").await.as_deref(),
        Some("cancelled")
    );
    assert!(installments(&app, "ACME-001").await.is_empty());
    let out = run_as(&app, &maria, "r-2", "remind ACME-001", today()).await;
    assert!(!out.refused, "{:?}", out.reply.text);
    let show = run_as(&app, &maria, "show-2", "plan ACME-001", today()).await;
    assert!(all_text(&show.reply).contains("cancelled (customer sold the business)"));
}

#[tokio::test]
async fn installments_are_kept_by_payments_and_a_missed_one_breaks_the_plan() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let maria = person("maria", Role::Collector);
    // 1,200.00 in two weekly installments: Fri 27 Nov and Fri 4 Dec.
    let out = run_as(
        &app,
        &maria,
        "plan-1",
        "plan ACME-001 1200 2 weekly fri",
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
    // A payment on Wednesday keeps installment 1, and the team hears it.
    pay(&app, "ACME-001", "INV-1001", "2026-11-25", "600.00", "W1").await;
    assert_eq!(
        installments(&app, "ACME-001").await,
        [("kept".into(), 1, 60_000), ("pending".into(), 2, 120_000)]
    );
    let news = outbox(&app, "payment:").await;
    let text = news[0]["message"]["text"].as_str().unwrap();
    assert_eq!(
        text,
        "ACME-001 paid USD 600.00 — installment 1 of 2 of its payment plan"
    );
    // Installment 2 is due Fri 4 Dec; with 2 business days of grace Tuesday is its last day.
    assert_eq!(
        resolve_promises(&app, d("2026-12-08"), at(d("2026-12-08"), 18))
            .await
            .unwrap(),
        (0, 0)
    );
    assert_eq!(
        plan_status(&app, "ACME-001").await.as_deref(),
        Some("active")
    );
    assert!(outbox(&app, "plan:").await.is_empty());
    // Wednesday: broken. The installment counts as a broken promise; managers are told.
    resolve_promises(&app, d("2026-12-09"), at(d("2026-12-09"), 7))
        .await
        .unwrap();
    assert_eq!(
        plan_status(&app, "ACME-001").await.as_deref(),
        Some("broken")
    );
    assert_eq!(installments(&app, "ACME-001").await[1].0, "broken");
    let ping = outbox(&app, "plan:").await;
    assert_eq!(ping.len(), 1);
    assert_eq!(ping[0]["channel"], "console:managers");
    let msg: dunbot::message::Message = serde_json::from_value(ping[0]["message"].clone()).unwrap();
    assert_eq!(msg.mentions, [dunbot::message::Mention::Managers]);
    assert!(
        msg.text.contains("Owner: maria") && msg.text.contains("installment 2 of 2"),
        "{}",
        msg.text
    );
    let commands: Vec<&str> = msg.buttons().map(|b| b.command.as_str()).collect();
    assert_eq!(
        commands,
        [
            "plan ACME-001 1050.00",
            "call ACME-001",
            "flag ACME-001",
            "refer ACME-001"
        ]
    );
    // Running the steps again changes nothing.
    let actions = count(&app, "actions").await;
    resolve_promises(&app, d("2026-12-09"), at(d("2026-12-09"), 8))
        .await
        .unwrap();
    assert_eq!(count(&app, "actions").await, actions);
    assert_eq!(outbox(&app, "plan:").await.len(), 1);

    // The digest lists it as a broken plan with its buttons, and not as a broken promise;
    // the account is a repeat delinquent and no longer paused.
    let mut conn = app.store.pool.acquire().await.unwrap();
    let snap = digest::load(&mut conn, &app.settings, d("2026-12-09"))
        .await
        .unwrap();
    drop(conn);
    let dg = digest::build(
        &snap,
        &app.settings,
        d("2026-12-09"),
        Some(d("2026-12-08")),
        false,
    );
    assert!(dg.promises_broken.is_empty());
    assert_eq!(dg.plans_broken.len(), 1);
    assert_eq!(
        (dg.plans_broken[0].installment, dg.plans_broken[0].of),
        (2, 2)
    );
    let rendered = all_text(&digest::render(&dg));
    assert!(
        rendered.contains("Broken payment plans") && rendered.contains("plan ACME-001 1050.00"),
        "{rendered}"
    );
    let acme = snap.accounts.iter().find(|a| a.code == "ACME-001").unwrap();
    let mine: Vec<_> = snap
        .promises
        .iter()
        .filter(|p| p.account_id == acme.id)
        .collect();
    let st = digest::assess(acme, &mine, &app.settings, d("2026-12-09"));
    assert!(st.track.is_repeat() && st.paused.is_none(), "{st:?}");
    let out = run_as(&app, &maria, "r-1", "remind ACME-001", d("2026-12-09")).await;
    assert!(!out.refused, "{:?}", out.reply.text);
    // A new plan may be made for what is left.
    let out = run_as(
        &app,
        &maria,
        "plan-2",
        "plan ACME-001 1050.00 3 biweekly 2026-12-11",
        d("2026-12-09"),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
}

#[tokio::test]
async fn a_long_plan_waits_for_a_manager_and_does_not_pause_chasing_until_approved() {
    let db = TestDb::new().await;
    let app = App::new(
        dunbot::config::Settings {
            plan_approval_over: Some(3),
            ..settings()
        },
        db.store.clone(),
    );
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let maria = person("maria", Role::Collector);
    let boss = person("boss", Role::Manager);
    let out = run_as(
        &app,
        &maria,
        "p-1",
        "plan ACME-001 1200 4 monthly 2026-12-15",
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
    assert!(
        out.reply.text.contains("a manager must approve it"),
        "{}",
        out.reply.text
    );
    assert_eq!(
        plan_status(&app, "ACME-001").await.as_deref(),
        Some("proposed")
    );
    assert!(installments(&app, "ACME-001").await.is_empty());
    let ping = outbox(&app, "plan:").await;
    let msg: dunbot::message::Message = serde_json::from_value(ping[0]["message"].clone()).unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM plans")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    let commands: Vec<&str> = msg.buttons().map(|b| b.command.as_str()).collect();
    assert_eq!(
        commands,
        [
            format!("plan-decide {id} approve"),
            format!("plan-decide {id} reject")
        ]
    );
    // Not paused while proposed.
    let out = run_as(&app, &maria, "r-1", "remind ACME-001", today()).await;
    assert!(!out.refused, "{:?}", out.reply.text);
    // A collector may not decide; a manager decides once.
    let out = run_as(
        &app,
        &maria,
        "d-1",
        &format!("plan-decide {id} approve"),
        today(),
    )
    .await;
    assert!(
        out.refused && out.reply.text.contains("manager"),
        "{:?}",
        out.reply.text
    );
    // The ping as a chat edge records it once delivered (here: one Slack copy).
    {
        let mut conn = app.store.pool.acquire().await.unwrap();
        dunbot::store::copies::record(&mut conn, &format!("plan:{id}"), "slack:CMGR", "1.2", false)
            .await
            .unwrap();
    }
    let out = run_as(
        &app,
        &boss,
        "d-2",
        &format!("plan-decide {id} approve fine"),
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
    // Every copy of the ping is edited: no buttons, who decided.
    let edit: serde_json::Value = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE kind = 'chat_edit' AND dedupe_key LIKE 'plan:%'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(edit["message_id"], "1.2", "{edit}");
    let edited: dunbot::message::Message = serde_json::from_value(edit["message"].clone()).unwrap();
    assert_eq!(edited.buttons().count(), 0, "{edit}");
    assert!(all_text(&edited).contains("approved by boss"), "{edit}");
    assert_eq!(
        plan_status(&app, "ACME-001").await.as_deref(),
        Some("active")
    );
    assert_eq!(
        installments(&app, "ACME-001").await,
        [("pending".into(), 1, 30_000)]
    );
    let out = run_as(
        &app,
        &boss,
        "d-3",
        &format!("plan-decide {id} reject"),
        today(),
    )
    .await;
    assert!(
        out.refused && out.reply.text.contains("is active"),
        "{:?}",
        out.reply.text
    );
    // Three installments need no approval.
    let out = run_as(
        &app,
        &maria,
        "p-2",
        "plan BOLT-001 900 3 weekly 2026-12-01",
        today(),
    )
    .await;
    assert!(
        !out.refused && !out.reply.text.contains("approve"),
        "{:?}",
        out.reply.text
    );
    assert_eq!(
        plan_status(&app, "BOLT-001").await.as_deref(),
        Some("active")
    );
    // A rejected plan changes nothing for chasing.
    let out = run_as(
        &app,
        &maria,
        "p-3",
        "plan EURO-001 2000 6 weekly 2026-12-01",
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
    let euro: i64 = sqlx::query_scalar("SELECT pl.id FROM plans pl JOIN accounts a ON a.id = pl.account_id WHERE a.code = 'EURO-001'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    let out = run_as(
        &app,
        &boss,
        "d-4",
        &format!("plan-decide {euro} reject too long"),
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
    assert_eq!(
        plan_status(&app, "EURO-001").await.as_deref(),
        Some("rejected")
    );
    assert!(installments(&app, "EURO-001").await.is_empty());
    // Decided after its first installment's grace ran out unpaid, a plan would break at once:
    // approval is refused and nothing changes; rejecting it is still possible.
    let out = run_as(
        &app,
        &maria,
        "p-4",
        "plan EURO-001 1800 6 weekly 2026-11-25",
        today(),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
    let late: i64 = sqlx::query_scalar("SELECT max(pl.id) FROM plans pl JOIN accounts a ON a.id = pl.account_id WHERE a.code = 'EURO-001'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    let out = run_as(
        &app,
        &boss,
        "d-5",
        &format!("plan-decide {late} approve"),
        d("2026-12-09"),
    )
    .await;
    assert!(
        out.refused && out.reply.text.contains("would break at once"),
        "{:?}",
        out.reply.text
    );
    assert_eq!(
        plan_status(&app, "EURO-001").await.as_deref(),
        Some("proposed")
    );
    assert!(installments(&app, "EURO-001").await.is_empty());
    let out = run_as(
        &app,
        &boss,
        "d-6",
        &format!("plan-decide {late} reject too late"),
        d("2026-12-09"),
    )
    .await;
    assert!(!out.refused, "{:?}", out.reply.text);
}
