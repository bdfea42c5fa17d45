//! Every command's success path and its refusals, against the real Postgres. A refusal tells
//! the person what to type instead and writes nothing but its own action row.
use crate::support::*;
use dunbot::app::App;
use dunbot::domain::roles::Role;

async fn ready() -> (App, TestDb) {
    let (app, db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(
        &app,
        "Northwind Recovery",
        None,
        None,
        Some("console:agency"),
    )
    .await
    .unwrap();
    (app, db)
}

/// Counts of every table a command may change, to prove a refusal changed none of them.
async fn state(app: &App) -> Vec<i64> {
    let mut v = Vec::new();
    for t in [
        "promises",
        "flags",
        "disputes",
        "referrals",
        "offers",
        "reminders",
        "outbox",
        "people",
    ] {
        v.push(count(app, t).await);
    }
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM invoices WHERE status = 'open'")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    v.push(open);
    v
}

/// Runs a command that must be refused; checks the message and that only a refusal row was written.
async fn refused(app: &App, who: &dunbot::app::Actor, text: &str, expect: &[&str]) {
    let before = state(app).await;
    let actions_before = count(app, "actions").await;
    let id = format!("refuse-{}", uuid::Uuid::new_v4());
    let out = run_as(app, who, &id, text, today()).await;
    assert!(out.refused, "{text} should be refused: {}", out.reply.text);
    for e in expect {
        assert!(
            out.reply.text.contains(e),
            "{text}: reply lacks {e:?}: {}",
            out.reply.text
        );
    }
    assert_eq!(state(app).await, before, "{text} changed state");
    assert_eq!(
        count(app, "actions").await,
        actions_before + 1,
        "{text}: one refusal row"
    );
    let outcome: String =
        sqlx::query_scalar("SELECT outcome FROM actions WHERE idempotency_key = $1")
            .bind(&id)
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(outcome, "refused");
}

async fn ok(app: &App, who: &dunbot::app::Actor, text: &str) -> dunbot::app::Outcome {
    let out = run_as(
        app,
        who,
        &format!("ok-{}", uuid::Uuid::new_v4()),
        text,
        today(),
    )
    .await;
    assert!(!out.refused, "{text} was refused: {}", out.reply.text);
    out
}

#[tokio::test]
async fn remind_queues_an_email_and_refuses_what_it_must() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let out = ok(&app, &maria, "remind ACME-001 firm").await;
    assert!(
        out.reply.text.contains("ap@acme.example") && out.reply.text.contains("USD 1,650.00"),
        "{}",
        out.reply.text
    );
    let (kind, to): (String, String) = sqlx::query_as("SELECT kind, payload->>'to' FROM outbox")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!((kind.as_str(), to.as_str()), ("email", "ap@acme.example"));
    refused(
        &app,
        &maria,
        "remind ACME-001",
        &["--force", "remind ACME-001 friendly --force"],
    )
    .await;
    ok(&app, &maria, "remind ACME-001 --force").await;
    refused(&app, &maria, "remind QUIET-001", &["do-not-contact"]).await;
    ok(&app, &maria, "dispute INV-2001 wrong quantity").await;
    refused(
        &app,
        &maria,
        "remind INV-2001",
        &["INV-2001 is disputed", "`/ar resolve INV-2001`"],
    )
    .await;
    refused(&app, &maria, "remind NOPE-999", &["no account", "NOPE-999"]).await;
    refused(
        &app,
        &maria,
        "remind ACME-001 angry",
        &["friendly, firm, final", "Usage:"],
    )
    .await;
    refused(
        &app,
        &person("sam", Role::Agency),
        "remind ACME-001",
        &["Only a collector or manager"],
    )
    .await;
}

#[tokio::test]
async fn promise_is_logged_and_checked_against_date_and_balance() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let out = ok(&app, &maria, "promise ACME-001 1,250.00 fri wire on Friday").await;
    assert!(
        out.reply.text.contains("USD 1,250.00") && out.reply.text.contains("2026-11-27"),
        "{}",
        out.reply.text
    );
    let (amount, date, note): (i64, chrono::NaiveDate, String) =
        sqlx::query_as("SELECT amount_minor, promised_for, note FROM promises")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(
        (amount, date, note.as_str()),
        (125_000, d("2026-11-27"), "wire on Friday")
    );
    refused(
        &app,
        &maria,
        "promise ACME-001 100 2026-11-01",
        &["in the past"],
    )
    .await;
    refused(
        &app,
        &maria,
        "promise ACME-001 9999 fri",
        &["more than", "USD 1,650.00"],
    )
    .await;
    refused(&app, &maria, "promise ACME-001 1,250 fri", &["ambiguous"]).await;
    refused(
        &app,
        &maria,
        "promise ACME-001 €100 fri",
        &["billed in USD"],
    )
    .await;
    refused(
        &app,
        &maria,
        "promise ACME-001 100 someday",
        &["2026-12-05"],
    )
    .await;
    refused(
        &app,
        &maria,
        "promise ACME-001 100",
        &["Missing the date", "/ar promise"],
    )
    .await;
    ok(&app, &maria, "promise EURO-001 €1.000,00 +7d").await;
}

#[tokio::test]
async fn flag_and_unflag_a_management_call() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let boss = person("priya", Role::Manager);
    ok(&app, &maria, "flag BOLT-001 three missed calls").await;
    // The managers' ping names whom it must notify.
    let mentions: serde_json::Value = sqlx::query_scalar(
        "SELECT payload->'message'->'mentions' FROM outbox WHERE dedupe_key LIKE 'flag:%'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(mentions, serde_json::json!([{"type": "managers"}]));
    refused(
        &app,
        &maria,
        "flag BOLT-001 again",
        &["already flagged by maria", "unflag BOLT-001"],
    )
    .await;
    refused(&app, &maria, "unflag BOLT-001 called", &["Only a manager"]).await;
    ok(
        &app,
        &boss,
        "unflag BOLT-001 CFO agreed to pay in two parts",
    )
    .await;
    refused(
        &app,
        &boss,
        "unflag BOLT-001 again",
        &["no open management-call flag"],
    )
    .await;
    let outcome: String = sqlx::query_scalar("SELECT outcome FROM flags")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(outcome, "CFO agreed to pay in two parts");
}

#[tokio::test]
async fn refer_offer_and_settle_with_the_agency_pinged() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let boss = person("priya", Role::Manager);
    refused(
        &app,
        &maria,
        "refer BOLT-001 \"Northwind Recovery\"",
        &["Only a manager"],
    )
    .await;
    refused(
        &app,
        &boss,
        "refer BOLT-001 Eastside",
        &["no agency `Eastside`", "Northwind Recovery"],
    )
    .await;
    refused(
        &app,
        &maria,
        "offer BOLT-001 1000",
        &["not with an agency", "refer BOLT-001"],
    )
    .await;
    ok(&app, &boss, "refer BOLT-001 northwind recovery").await;
    refused(
        &app,
        &boss,
        "refer BOLT-001 Northwind Recovery",
        &["already referred"],
    )
    .await;
    let status: String =
        sqlx::query_scalar("SELECT status FROM invoices WHERE number = 'INV-2001'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(status, "with_agency");
    let agency = dunbot::app::Actor {
        agency: Some("Northwind Recovery".into()),
        ..person("sam", Role::Agency)
    };
    // Not theirs: answered as if it did not exist.
    refused(
        &app,
        &agency,
        "offer ACME-001 100",
        &["There is no account `ACME-001`."],
    )
    .await;
    refused(&app, &agency, "offer BOLT-001 6000", &["more than"]).await;
    let out = ok(
        &app,
        &agency,
        "offer BOLT-001 4,000.00 lump sum within 10 days",
    )
    .await;
    // The agency may never decide: its own reply carries no Approve / Reject.
    assert_eq!(
        out.reply.buttons().count(),
        0,
        "{:?}",
        out.reply.buttons().collect::<Vec<_>>()
    );
    // The managers' ping does, and mentions the managers.
    let ping: serde_json::Value = sqlx::query_scalar(
        "SELECT payload->'message' FROM outbox WHERE payload->>'channel' = 'console:managers'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(ping["mentions"], serde_json::json!([{"type": "managers"}]));
    let ping: dunbot::message::Message = serde_json::from_value(ping).unwrap();
    let approve = ping
        .buttons()
        .find(|b| b.label == "Approve")
        .expect("approve button")
        .command
        .clone();
    assert!(
        approve.starts_with("settle ") && approve.ends_with(" approve"),
        "{approve}"
    );
    refused(&app, &agency, "offer BOLT-001 3000", &["still waiting"]).await;
    refused(&app, &maria, &approve, &["Only a manager"]).await;
    let out = ok(&app, &boss, &format!("{approve} good recovery")).await;
    assert!(
        out.resolved
            .as_deref()
            .is_some_and(|r| r.starts_with("Approved by priya")),
        "{:?}",
        out.resolved
    );
    refused(&app, &boss, &approve, &["already approved", "priya"]).await;
    let reject = approve.replace("approve", "reject");
    refused(&app, &boss, &reject, &["approved"]).await;
    refused(&app, &boss, "settle 999 approve", &["no offer 999"]).await;
    // The managers were asked and the agency was told, through the outbox.
    let channels: Vec<String> = sqlx::query_scalar(
        "SELECT payload->>'channel' FROM outbox WHERE kind = 'chat' ORDER BY id",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(
        channels,
        ["console:agency", "console:managers", "console:agency"]
    );
    // Both agency pings (the referral, the decision) mention the agency's people.
    let mentions: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT payload->'message'->'mentions' FROM outbox WHERE payload->>'channel' = 'console:agency' ORDER BY id",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    let northwind = serde_json::json!([{"type": "agency", "name": "Northwind Recovery"}]);
    assert_eq!(mentions, [northwind.clone(), northwind]);
}

#[tokio::test]
async fn dispute_and_resolve_put_an_invoice_on_hold_and_back() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    ok(&app, &maria, "dispute INV-1001 goods damaged").await;
    refused(
        &app,
        &maria,
        "dispute INV-1001 again",
        &["already disputed"],
    )
    .await;
    refused(&app, &maria, "resolve INV-1002", &["not disputed"]).await;
    refused(&app, &maria, "dispute INV-9999 x", &["no invoice"]).await;
    ok(&app, &maria, "resolve INV-1001 credit note issued").await;
    let (status, open): (String, i64) = sqlx::query_as(
        "SELECT i.status, (SELECT count(*) FROM disputes WHERE resolved_at IS NULL) FROM invoices i WHERE number = 'INV-1001'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), open), ("open", 0));
}

#[tokio::test]
async fn views_help_and_roles() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let card = ok(&app, &maria, "account acme-001").await;
    let text = dunbot::edges::console::render::render(&card.reply);
    assert!(
        text.contains("ACME-001 — Acme Corp")
            && text.contains("USD 1,650.00")
            && text.contains("INV-1001"),
        "{text}"
    );
    let aging = dunbot::edges::console::render::render(&ok(&app, &maria, "aging").await.reply);
    assert!(
        aging.contains("31-60") && aging.contains("USD 5,000.00"),
        "{aging}"
    );
    let digest = dunbot::edges::console::render::render(&ok(&app, &maria, "digest").await.reply);
    assert!(
        digest.contains("Collections digest") && digest.contains("BOLT-001"),
        "{digest}"
    );
    // Help lists what the person may run: a manager sees the managers' commands, a collector
    // does not.
    let help = ok(&app, &person("mona", Role::Manager), "help")
        .await
        .reply
        .text;
    for c in [
        "remind", "promise", "flag", "refer", "offer", "settle", "dispute", "account",
    ] {
        assert!(help.contains(&format!("/ar {c}")), "help lacks {c}: {help}");
    }
    let help = ok(&app, &person("nobody", Role::Collector), "help")
        .await
        .reply
        .text;
    assert!(
        help.contains("/ar promise") && !help.contains("/ar settle"),
        "{help}"
    );
    assert!(
        ok(&app, &maria, "/ar help promise")
            .await
            .reply
            .text
            .contains("Example: /ar promise")
    );
    refused(&app, &maria, "help nonsense", &["no command `nonsense`"]).await;
    refused(
        &app,
        &maria,
        "frobnicate",
        &["no command `frobnicate`", "/ar help"],
    )
    .await;
    // Roles: only an admin grants; a granted role counts on the next command.
    let admin = person("root", Role::Admin);
    let nobody = dunbot::app::Actor {
        roles: vec![],
        ..person("U777", Role::Collector)
    };
    refused(&app, &nobody, "account ACME-001", &["no dunbot role"]).await;
    refused(&app, &maria, "role U777 manager", &["Only an admin"]).await;
    ok(&app, &admin, "role <@U777|kim> collector").await;
    ok(&app, &nobody, "account ACME-001").await;
    refused(&app, &admin, "role U777 agency", &["needs the agency"]).await;
    ok(&app, &admin, "role U777 none").await;
    refused(&app, &nobody, "account ACME-001", &["no dunbot role"]).await;
}
