//! Calls, notes, the account's timeline (`ar history`), call-backs in the digest, and the case
//! file an agency gets with a referral — through `App::handle` on the real Postgres.
use crate::support::*;
use chrono::{DateTime, Duration, Utc};
use dunbot::app::{Actor, App, Invocation, Outcome, Source};
use dunbot::domain::roles::Role;
use dunbot::message::{Block, Message};

/// Runs `text` as `actor` on `today()`, `minutes` after 09:00: distinct times order the timeline.
async fn at_minute(app: &App, actor: &Actor, id: &str, text: &str, minutes: i64) -> Outcome {
    let now: DateTime<Utc> = at(today(), 9) + Duration::minutes(minutes);
    app.handle(Invocation {
        actor: actor.clone(),
        channel: "console:test".into(),
        request_id: id.into(),
        text: text.into(),
        source: Source::Command,
        now,
        as_of: Some(today()),
    })
    .await
}

async fn ok(app: &App, actor: &Actor, id: &str, text: &str, minutes: i64) -> Outcome {
    let out = at_minute(app, actor, id, text, minutes).await;
    assert!(!out.refused, "{text}: {}", out.reply.text);
    out
}

async fn refused(app: &App, actor: &Actor, id: &str, text: &str) -> String {
    let out = at_minute(app, actor, id, text, 0).await;
    assert!(out.refused, "{text} was not refused: {}", out.reply.text);
    out.reply.text
}

async fn seeded() -> (App, TestDb) {
    let (app, db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    (app, db)
}

/// Every text of a message, blocks included, as one string.
fn all_text(m: &Message) -> String {
    let mut out = vec![m.text.clone()];
    for b in &m.blocks {
        match b {
            Block::Header { text } | Block::Text { text } | Block::Context { text } => {
                out.push(text.clone())
            }
            Block::Item { text, buttons } => {
                out.push(text.clone());
                out.extend(
                    buttons
                        .iter()
                        .map(|b| format!("[{}: {}]", b.label, b.command)),
                );
            }
            Block::Fields { fields } => out.extend(fields.iter().map(|(k, v)| format!("{k}: {v}"))),
            Block::Divider => {}
        }
    }
    out.join("\n")
}

#[tokio::test]
async fn a_call_is_recorded_with_who_and_when_and_bad_input_writes_nothing() {
    let (app, _db) = seeded().await;
    let maria = person("maria", Role::Collector);
    let out = ok(
        &app,
        &maria,
        "c1",
        "call ACME-001 no-answer left a message with reception",
        30,
    )
    .await;
    assert!(out.reply.text.contains("no answer"), "{}", out.reply.text);
    let (outcome, note, by, when): (String, Option<String>, String, DateTime<Utc>) =
        sqlx::query_as("SELECT outcome, note, called_by, called_at FROM calls")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(outcome, "no_answer");
    assert_eq!(note.as_deref(), Some("left a message with reception"));
    assert_eq!(by, "maria");
    assert_eq!(when, at(today(), 9) + Duration::minutes(30));
    let kind: String = sqlx::query_scalar(
        "SELECT kind FROM actions WHERE idempotency_key = 'c1' AND subject = 'ACME-001'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(kind, "call");
    // The same request again acts once.
    ok(
        &app,
        &maria,
        "c1",
        "call ACME-001 no-answer left a message with reception",
        30,
    )
    .await;
    assert_eq!(count(&app, "calls").await, 1);

    let e = refused(&app, &maria, "c2", "call ACME-001 busy signal").await;
    assert!(
        e.contains("`busy`") && e.contains("wrong number") && e.contains("call back <date>"),
        "{e}"
    );
    let e = refused(&app, &maria, "c3", "call ACME-001 call back").await;
    assert!(e.contains("needs the day"), "{e}");
    let e = refused(&app, &maria, "c4", "call ACME-001 callback 2026-11-20").await;
    assert!(e.contains("in the past"), "{e}");
    let e = refused(
        &app,
        &maria,
        "c5",
        &format!("call ACME-001 reached {}", "x".repeat(1001)),
    )
    .await;
    assert!(e.contains("1001 characters"), "{e}");
    let e = refused(&app, &maria, "c6", "call NOPE-001 reached").await;
    assert!(e.contains("no account"), "{e}");
    let agency = Actor {
        agency: Some("Northwind Recovery".into()),
        ..person("sam", Role::Agency)
    };
    refused(&app, &agency, "c7", "call ACME-001 reached").await;
    assert_eq!(count(&app, "calls").await, 1, "refusals wrote a call");
}

#[tokio::test]
async fn wrong_number_marks_the_phone_until_a_call_reaches_the_customer() {
    let (app, _db) = seeded().await;
    let maria = person("maria", Role::Collector);
    let out = ok(&app, &maria, "w1", "call ACME-001 wrong number", 1).await;
    assert!(
        out.reply.text.contains("marked for checking"),
        "{}",
        out.reply.text
    );
    let marked: bool = sqlx::query_scalar(
        "SELECT phone_check_needed FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.code = 'ACME-001'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert!(marked);
    let card = ok(&app, &maria, "w2", "account ACME-001", 2).await;
    let text = all_text(&card.reply);
    assert!(
        text.contains("Phone needs checking") && text.contains("+1-555-0100"),
        "{text}"
    );
    assert!(
        text.contains("Last call") && text.contains("wrong number"),
        "{text}"
    );
    assert!(text.contains("[Log call: call ACME-001]"), "{text}");
    // No text goes to a number logged as wrong, consent or not.
    for (id, text) in [
        ("w-consent", "contact ACME-001 sms on"),
        ("w-text", "remind ACME-001 sms"),
    ] {
        let why = refused(&app, &maria, id, text).await;
        assert!(why.contains("wrong number"), "{why}");
    }
    // Reaching them on it shows the number works.
    let out = ok(&app, &maria, "w3", "call ACME-001 reached spoke to Jane", 3).await;
    assert!(out.reply.text.contains("lifted"), "{}", out.reply.text);
    let marked: bool = sqlx::query_scalar("SELECT bool_or(phone_check_needed) FROM contacts")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert!(!marked);
}

#[tokio::test]
async fn promised_offers_the_promise_form_with_the_balance_filled_in() {
    let (app, _db) = seeded().await;
    let maria = person("maria", Role::Collector);
    let out = ok(&app, &maria, "p1", "call ACME-001 promised by Friday", 1).await;
    // ACME-001 owes 1,250.00 + 400.00.
    let buttons: Vec<_> = out.reply.buttons().collect();
    let full = buttons
        .iter()
        .find(|b| b.command == "promise ACME-001 1650.00")
        .expect("a button promising the whole balance");
    let fields: Vec<&str> = full
        .form
        .as_ref()
        .unwrap()
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(fields, ["date", "note"]);
    assert!(
        buttons
            .iter()
            .any(|b| b.command == "promise ACME-001" && b.form.is_some())
    );
    assert!(
        out.reply.text.contains("promise ACME-001 <amount> <date>"),
        "the console is told what to type: {}",
        out.reply.text
    );
    assert_eq!(
        count(&app, "promises").await,
        0,
        "a call logs no promise by itself"
    );
    // The button's command, completed as the form would, logs it.
    ok(&app, &maria, "p2", "promise ACME-001 1650.00 fri", 2).await;
    assert_eq!(count(&app, "promises").await, 1);
}

#[tokio::test]
async fn notes_are_recorded_and_empty_or_too_long_ones_are_refused() {
    let (app, _db) = seeded().await;
    let tom = person("tom", Role::Manager);
    let out = ok(
        &app,
        &tom,
        "n1",
        "note ACME-001 CFO is Jane Roe, prefers email",
        1,
    )
    .await;
    assert!(
        out.reply.text.contains("CFO is Jane Roe"),
        "{}",
        out.reply.text
    );
    let (body, by): (String, String) = sqlx::query_as("SELECT body, written_by FROM notes")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(
        (body.as_str(), by.as_str()),
        ("CFO is Jane Roe, prefers email", "tom")
    );
    let e = refused(&app, &tom, "n2", "note ACME-001 \"   \"").await;
    assert!(e.contains("empty"), "{e}");
    let e = refused(&app, &tom, "n3", "note ACME-001").await;
    assert!(e.contains("Missing the text"), "{e}");
    let e = refused(
        &app,
        &tom,
        "n4",
        &format!("note ACME-001 {}", "y".repeat(1200)),
    )
    .await;
    assert!(e.contains("1200 characters") && e.contains("1000"), "{e}");
    assert_eq!(count(&app, "notes").await, 1);
}

#[tokio::test]
async fn history_is_one_timeline_newest_first_paged() {
    let (app, _db) = seeded().await;
    let maria = person("maria", Role::Collector);
    let boss = person("priya", Role::Manager);
    ok(&app, &maria, "h1", "remind ACME-001", 1).await;
    ok(&app, &maria, "h2", "call ACME-001 voicemail", 2).await;
    ok(&app, &maria, "h3", "dispute INV-1002 wrong PO number", 3).await;
    ok(&app, &maria, "h4", "note ACME-001 asked for the PO", 4).await;
    ok(&app, &boss, "h5", "flag ACME-001 CFO unreachable", 5).await;
    ok(&app, &maria, "h6", "hold ACME-001 2026-12-15", 6).await;
    ok(&app, &maria, "h7", "promise ACME-001 500 fri by wire", 7).await;
    ok(&app, &maria, "h7b", "account ACME-001", 8).await;
    let out = ok(&app, &maria, "h8", "history ACME-001", 9).await;
    let text = all_text(&out.reply);
    let order = [
        "Promise by maria: USD 500.00 by 2026-11-27 — open — by wire",
        "Hold by maria: `hold ACME-001 2026-12-15`",
        "Flagged for a management call by priya: CFO unreachable — open",
        "Note by maria: asked for the PO",
        "Dispute on INV-1002 by maria: wrong PO number — open",
        "Call by maria: voicemail",
        "Reminder (friendly) by maria",
    ];
    let mut last = 0;
    for want in order {
        let pos = text
            .find(want)
            .unwrap_or_else(|| panic!("no `{want}` in\n{text}"));
        assert!(pos >= last, "`{want}` out of order in\n{text}");
        last = pos;
    }
    assert!(text.contains("2026-11-23 09:02 · Call by maria"), "{text}");
    assert!(
        !text.contains("Account by"),
        "views are not history: {text}"
    );
    assert!(text.contains("Entries 1–7 of 7"), "{text}");

    // Past a page: 20 newest, an Older button, and page 2 has the rest.
    for i in 0..20 {
        ok(
            &app,
            &maria,
            &format!("hn{i}"),
            &format!("note ACME-001 note number {i}"),
            10 + i,
        )
        .await;
    }
    let out = ok(&app, &maria, "h9", "history ACME-001", 40).await;
    let text = all_text(&out.reply);
    assert!(
        text.contains("Entries 1–20 of 27") && text.contains("note number 19"),
        "{text}"
    );
    assert!(
        text.contains("note number 0") && !text.contains("voicemail"),
        "{text}"
    );
    assert!(
        out.reply
            .buttons()
            .any(|b| b.command == "history ACME-001 2"),
        "{text}"
    );
    let out = ok(&app, &maria, "h10", "history ACME-001 2", 41).await;
    let text = all_text(&out.reply);
    assert!(
        text.contains("Entries 21–27 of 27") && text.contains("voicemail"),
        "{text}"
    );
    assert!(
        !out.reply
            .buttons()
            .any(|b| b.command.starts_with("history")),
        "{text}"
    );
    let out = ok(&app, &maria, "h11", "history ACME-001 --all", 42).await;
    let text = all_text(&out.reply);
    assert!(
        text.contains("All 27 entries")
            && text.contains("note number 0")
            && text.contains("voicemail")
    );
    let e = refused(&app, &maria, "h12", "history ACME-001 9").await;
    assert!(e.contains("2 pages"), "{e}");
    let e = refused(&app, &maria, "h13", "history ACME-001 two").await;
    assert!(e.contains("not a page number"), "{e}");
    // An agency sees no account that was not referred to it.
    let agency = Actor {
        agency: Some("Northwind Recovery".into()),
        ..person("sam", Role::Agency)
    };
    dunbot::app::admin::add_agency(&app, "Northwind Recovery", None, None, None)
        .await
        .unwrap();
    let e = refused(&app, &agency, "h14", "history ACME-001").await;
    assert!(e.contains("no account `ACME-001`"), "{e}");
}

#[tokio::test]
async fn a_dropped_reminder_and_a_payment_show_with_their_reason_and_day() {
    let (app, _db) = app().await;
    seed(
        &app,
        CUSTOMERS,
        INVOICES,
        Some("account,invoice,paid_on,amount,currency,reference\nACME-001,INV-1001,2026-11-20,100.00,USD,W-77\n"),
    )
    .await;
    let maria = person("maria", Role::Collector);
    ok(&app, &maria, "d1", "remind ACME-001 firm", 1).await;
    sqlx::query("UPDATE outbox SET status = 'dropped', last_error = 'not sent: paid since queued' WHERE kind = 'email'")
        .execute(&app.store.pool)
        .await
        .unwrap();
    let out = ok(&app, &maria, "d2", "history ACME-001", 2).await;
    let text = all_text(&out.reply);
    assert!(
        text.contains("Reminder (firm) by maria — not sent (paid since queued)"),
        "{text}"
    );
    assert!(
        text.contains("2026-11-20 · Payment of USD 100.00 on INV-1001 (ref W-77)"),
        "{text}"
    );
}

#[tokio::test]
async fn a_call_back_is_listed_in_that_days_digest_until_someone_calls() {
    let (app, _db) = seeded().await;
    let maria = person("maria", Role::Collector);
    ok(
        &app,
        &maria,
        "b1",
        "call ACME-001 call back wed after payroll",
        1,
    )
    .await;
    let callback: chrono::NaiveDate = sqlx::query_scalar("SELECT callback_on FROM calls")
        .fetch_one(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(callback, d("2026-11-25"));
    let digest_on = |day: chrono::NaiveDate| {
        let app = &app;
        async move {
            let mut conn = app.store.pool.acquire().await.unwrap();
            let snap = dunbot::digest::load(&mut conn, &app.settings, day)
                .await
                .unwrap();
            dunbot::digest::render(&dunbot::digest::build(
                &snap,
                &app.settings,
                day,
                None,
                false,
            ))
        }
    };
    let msg = digest_on(d("2026-11-25")).await;
    let text = all_text(&msg);
    assert!(text.contains("Call-backs due today* (1)"), "{text}");
    assert!(
        text.contains(
            "*ACME-001* Acme Corp — call back agreed by maria on 2026-11-23: after payroll"
        ),
        "{text}"
    );
    assert!(text.contains("[Log call: call ACME-001]"), "{text}");
    assert!(msg.text.contains("1 call-back due"), "{}", msg.text);
    assert!(!all_text(&digest_on(d("2026-11-24")).await).contains("Call-backs"));
    // The card says when.
    let card = ok(&app, &maria, "b2", "account ACME-001", 2).await;
    assert!(all_text(&card.reply).contains("Call back* on Wed 2026-11-25"));
    // Calling again settles it.
    ok(&app, &maria, "b3", "call ACME-001 reached paying today", 3).await;
    assert!(!all_text(&digest_on(d("2026-11-25")).await).contains("Call-backs"));
}
