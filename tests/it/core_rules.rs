//! The core's rules and words (issue 10): an agency sees only its own accounts on every edge,
//! referrals need something overdue, bad input is refused in plain words and writes nothing,
//! reminders say they were queued, and views are logged lightly.
use crate::fake_discord::{self, AGENCY_ROLE, CHANNEL, COLLECTOR_ROLE, FakeDiscord, member};
use crate::slack_support::bot;
use crate::support::*;
use dunbot::app::{Actor, App, Outcome};
use dunbot::domain::roles::Role;
use serde_json::{Value, json};
use std::sync::Arc;

/// Three accounts 130 days late besides the usual ones: REFB-001 referred to Southpaw,
/// NORTH-001 to Northwind, LONE-001 to no one; NEW-001 owes only an invoice not yet due.
const MORE_CUSTOMERS: &str = "account,name,email,phone,currency,timezone,owner,do_not_contact
REFB-001,Secretive Holdings,ap@secret.example,,USD,UTC,tom,no
NORTH-001,Northside Traders,ap@north.example,,USD,UTC,tom,no
LONE-001,Lonely Secrets Ltd,ap@lone.example,,USD,UTC,tom,no
NEW-001,Newcomer Co,ap@new.example,,USD,UTC,tom,no
";
const MORE_INVOICES: &str = "account,invoice,issued,due,amount,currency
REFB-001,INV-9001,2026-06-16,2026-07-16,800.00,USD
NORTH-001,INV-9101,2026-06-16,2026-07-16,700.00,USD
LONE-001,INV-9201,2026-06-16,2026-07-16,600.00,USD
NEW-001,INV-9301,2026-11-15,2026-12-15,300.00,USD
";

/// What only the staff may see: any of it in an agency's answer is a leak.
const NOT_NORTHWINDS: &[&str] = &[
    "REFB",
    "Secretive",
    "LONE",
    "Lonely",
    "Acme Corp",
    "BOLT",
    "Bolt",
    "QUIET",
    "EURO",
    "NEW-001",
    "Newcomer",
];

fn admin() -> Actor {
    person("root", Role::Admin)
}

fn agent(name: &str, agency: &str) -> Actor {
    Actor {
        agency: Some(agency.into()),
        ..person(name, Role::Agency)
    }
}

async fn seed_all(app: &App) {
    let customers = format!("{CUSTOMERS}{}", MORE_CUSTOMERS.split_once('\n').unwrap().1);
    let invoices = format!("{INVOICES}{}", MORE_INVOICES.split_once('\n').unwrap().1);
    seed(app, &customers, &invoices, None).await;
}

/// Both agencies, and the two referrals.
async fn refer_all(app: &App) {
    for name in ["Northwind Recovery", "Southpaw Collections"] {
        dunbot::app::admin::add_agency(app, name, None, None, None)
            .await
            .unwrap();
    }
    for (i, line) in [
        "refer REFB-001 \"Southpaw Collections\"",
        "refer NORTH-001 \"Northwind Recovery\"",
    ]
    .iter()
    .enumerate()
    {
        let o = run_as(app, &admin(), &format!("setup-{i}"), line, today()).await;
        assert!(!o.refused, "{line}: {}", o.reply.text);
    }
}

async fn ready() -> (App, TestDb) {
    let (app, db) = app().await;
    seed_all(&app).await;
    refer_all(&app).await;
    (app, db)
}

/// Everything the person can read in a reply: its text and every block and button.
fn shown(o: &Outcome) -> String {
    serde_json::to_string(&o.reply).unwrap()
}

/// `what` is the line typed: its words echoed back in backticks are the person's own.
fn assert_no_leak(what: &str, text: &str) {
    let mut text = text.to_string();
    for typed in what.split_whitespace() {
        text = text.replace(&format!("`{typed}`"), "`…`");
    }
    for word in NOT_NORTHWINDS {
        assert!(!text.contains(word), "{what} shows {word:?}: {text}");
    }
}

async fn say(app: &App, who: &Actor, text: &str) -> Outcome {
    run_as(
        app,
        who,
        &format!("t-{}", uuid::Uuid::new_v4()),
        text,
        today(),
    )
    .await
}

#[tokio::test]
async fn an_agency_sees_only_the_accounts_referred_to_it_through_the_core() {
    let (app, _db) = ready().await;
    let north = agent("nora", "Northwind Recovery");
    let actions_before = count(&app, "actions").await;
    // Everything an agency person can type, and what comes back.
    for line in [
        "account REFB-00",
        "account REFB-001",
        "account refb-001",
        "account LONE-001",
        "account Secre",
        "account Lonely",
        "account ACME",
        "account INV-9001",
        "offer REFB-001 100",
        "offer LONE-001 100",
        "offer NEW-001 100",
        "remind INV-9001",
        "remind REFB-001",
        "settle 1 approve",
        "dispute INV-9001 wrong",
        "help",
        "help account",
        "help offer",
        "digest",
        "aging",
        "preview",
        "acount REFB-001",
    ] {
        let out = say(&app, &north, line).await;
        assert!(
            out.refused || line.starts_with("help"),
            "{line}: {}",
            out.reply.text
        );
        assert_no_leak(line, &shown(&out));
    }
    // An account referred elsewhere, or to no one, reads exactly as one that does not exist.
    let missing = say(&app, &north, "account NOPE-001").await.reply.text;
    for code in ["REFB-001", "LONE-001"] {
        let out = say(&app, &north, &format!("account {code}")).await;
        assert_eq!(out.reply.text.replace(code, "NOPE-001"), missing);
        let out = say(&app, &north, &format!("offer {code} 100")).await;
        let none = say(&app, &north, "offer NOPE-001 100").await;
        assert_eq!(out.reply.text.replace(code, "NOPE-001"), none.reply.text);
    }
    // Their own account is found, by code and as a suggestion.
    let out = say(&app, &north, "account NORTH-001").await;
    assert!(!out.refused && shown(&out).contains("Northside Traders"));
    assert_no_leak("their card", &shown(&out));
    let out = say(&app, &north, "account NORT").await;
    assert!(
        out.reply
            .text
            .contains("Did you mean NORTH-001 (Northside Traders)?")
    );
    // The other agency sees its own, and not Northwind's.
    let south = agent("sol", "Southpaw Collections");
    assert!(!say(&app, &south, "account REFB-001").await.refused);
    let out = say(&app, &south, "account NORTH").await;
    assert!(
        out.refused && !shown(&out).contains("NORTH-001"),
        "{}",
        out.reply.text
    );
    // Staff still get suggestions from the whole book.
    let out = say(&app, &person("maria", Role::Collector), "account REFB-00").await;
    assert!(out.reply.text.contains("REFB-001 (Secretive Holdings)"));
    assert!(count(&app, "actions").await > actions_before);
}

#[tokio::test]
async fn an_agency_in_slack_gets_no_suggestion_from_the_customer_book() {
    let bot = bot().await;
    let extra_c = MORE_CUSTOMERS.split_once('\n').unwrap().1;
    let extra_i = MORE_INVOICES.split_once('\n').unwrap().1;
    seed(
        &bot.app,
        &format!("account,name,email,phone,currency,timezone,owner,do_not_contact\n{extra_c}"),
        &format!("account,invoice,issued,due,amount,currency\n{extra_i}"),
        None,
    )
    .await;
    dunbot::app::admin::add_agency(&bot.app, "Southpaw Collections", None, None, None)
        .await
        .unwrap();
    for (i, line) in [
        "refer REFB-001 \"Southpaw Collections\"",
        "refer NORTH-001 \"Northwind Recovery\"",
    ]
    .iter()
    .enumerate()
    {
        let o = run_as(&bot.app, &admin(), &format!("s-{i}"), line, today()).await;
        assert!(!o.refused, "{}", o.reply.text);
    }
    {
        let mut conn = bot.app.store.pool.acquire().await.unwrap();
        let north: i64 =
            sqlx::query_scalar("SELECT id FROM agencies WHERE name = 'Northwind Recovery'")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        dunbot::store::people::grant(
            &mut conn,
            "slack",
            "UAGENT",
            Role::Agency,
            Some(north),
            "test",
        )
        .await
        .unwrap();
    }
    for (rid, text) in [
        ("a1", "account REFB-00"),
        ("a2", "account Secre"),
        ("a3", "account LONE-001"),
        ("a4", "offer REFB-001 100"),
        ("a5", "account NORTH-001"),
    ] {
        bot.command("UAGENT", text, rid).await;
        bot.fake
            .wait_until("the answer", |f| {
                !f.calls(&format!("response:{rid}")).is_empty()
            })
            .await;
        let reply = bot.fake.calls(&format!("response:{rid}"))[0]
            .body
            .to_string();
        assert_no_leak(text, &reply);
        if rid == "a5" {
            assert!(reply.contains("Northside Traders"), "{reply}");
        } else {
            assert!(reply.contains("There is no account"), "{reply}");
        }
    }
}

/// An APPLICATION_COMMAND_AUTOCOMPLETE interaction for `/ar account` with `typed` focused.
fn autocomplete(id: u64, who: Value, typed: &str) -> Value {
    json!({
        "id": id.to_string(), "application_id": fake_discord::APP_ID.to_string(), "type": 4,
        "token": format!("token-{id}"), "version": 1,
        "guild_id": "290926798626357999", "channel_id": CHANNEL.to_string(),
        "member": who, "app_permissions": "442368", "locale": "en-US", "guild_locale": "en-US",
        "entitlements": [], "attachment_size_limit": 26214400,
        "data": {"id": "771825006014889984", "name": "ar", "type": 1, "options": [
            {"name": "account", "type": 1, "options": [
                {"name": "account", "type": 3, "value": typed, "focused": true}]}]},
    })
}

#[tokio::test]
async fn discord_autocomplete_offers_an_agency_only_its_own_accounts() {
    use axum::body::Body;
    use axum::http::Request;
    use ed25519_dalek::{Signer, SigningKey};
    use tower::ServiceExt;
    let (app, _db) = ready().await;
    let app = Arc::new(app);
    let fake = FakeDiscord::start().await;
    let now = at(today(), 10);
    let key = SigningKey::from_bytes(&[9u8; 32]);
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let verify = dunbot::edges::discord::verify::Verify {
        verifier: dunbot::edges::discord::config::verifier(&hex(key.verifying_key().as_bytes()))
            .unwrap(),
        max_age: std::time::Duration::from_secs(300),
    };
    let router = dunbot::edges::discord::endpoint::router(
        fake_discord::edge(app.clone(), &fake, now),
        verify,
    );
    let choices = |body: Value| -> Vec<String> {
        body["data"]["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["value"].as_str().unwrap().to_string())
            .collect()
    };
    let ask = |id: u64, who: Value, typed: &str| {
        let body = autocomplete(id, who, typed).to_string();
        let ts = now.timestamp().to_string();
        let sig = hex(&key
            .sign(&[ts.as_bytes(), body.as_bytes()].concat())
            .to_bytes());
        let router = router.clone();
        async move {
            let res = router
                .oneshot(
                    Request::post("/discord/interactions")
                        .header("content-type", "application/json")
                        .header("X-Signature-Ed25519", sig)
                        .header("X-Signature-Timestamp", ts)
                        .body(Body::from(body))
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
                .await
                .unwrap();
            serde_json::from_slice::<Value>(&bytes).unwrap()
        }
    };
    let nora = member(444, "nora", &[AGENCY_ROLE]);
    for (i, typed) in ["", "E", "REFB", "Secre", "LONE", "001"].iter().enumerate() {
        let body = ask(8000 + i as u64, nora.clone(), typed).await;
        assert_no_leak("autocomplete", &body.to_string());
        let got = choices(body);
        assert!(got.iter().all(|c| c == "NORTH-001"), "{typed:?}: {got:?}");
    }
    assert_eq!(choices(ask(8100, nora, "nort").await), ["NORTH-001"]);
    // A collector is offered the whole book: the same search finds what the agency may not see.
    let maria = member(111, "maria", &[COLLECTOR_ROLE]);
    assert_eq!(
        choices(ask(8200, maria, "Secre").await),
        ["LONE-001", "REFB-001"]
    );
}

/// Counts of every table a command may change.
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
    v
}

/// Refused with every one of `expect` in the answer, and nothing written but the refusal.
async fn refused(app: &App, who: &Actor, text: &str, expect: &[&str]) -> Outcome {
    let before = state(app).await;
    let out = say(app, who, text).await;
    assert!(
        out.refused,
        "{text:?} should be refused: {}",
        out.reply.text
    );
    for e in expect {
        assert!(
            out.reply.text.contains(e),
            "{text:?}: lacks {e:?}: {}",
            out.reply.text
        );
    }
    assert_eq!(state(app).await, before, "{text:?} changed something");
    out
}

#[tokio::test]
async fn referring_an_account_with_nothing_overdue_needs_force() {
    let (app, _db) = ready().await;
    let boss = person("priya", Role::Manager);
    refused(
        &app,
        &boss,
        "refer NEW-001 Northwind Recovery",
        &[
            "NEW-001 has nothing overdue",
            "2026-12-15",
            "refer NEW-001 'Northwind Recovery' --force",
        ],
    )
    .await;
    let out = say(&app, &boss, "refer NEW-001 'Northwind Recovery' --force").await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains("1 invoice, USD 300.00") && out.reply.text.contains("--force"),
        "{}",
        out.reply.text
    );
    // Something overdue refers without --force (as in setup), and says what moved.
    let out = say(&app, &boss, "refer LONE-001 'Northwind Recovery'").await;
    assert!(
        !out.refused && out.reply.text.contains("1 invoice, USD 600.00."),
        "{}",
        out.reply.text
    );
}

#[tokio::test]
async fn the_card_and_the_digest_agree_on_a_referred_accounts_stage_and_buttons() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let card = say(&app, &maria, "account NORTH-001").await;
    let fields = shown(&card);
    assert!(
        fields.contains(r#"["Stage","Agency referral"]"#),
        "{fields}"
    );
    // No "Send reminder" where `ar remind` refuses (with an agency), on the card or the digest.
    assert!(!fields.contains("remind NORTH-001"), "{fields}");
    refused(
        &app,
        &maria,
        "remind NORTH-001",
        &["with a collection agency"],
    )
    .await;
    let digest = say(&app, &maria, "digest").await;
    let text = shown(&digest);
    assert!(!text.contains("remind NORTH-001"), "{text}");
    assert!(text.contains("promise NORTH-001"), "{text}");
    let line = digest
        .reply
        .blocks
        .iter()
        .find_map(|b| match b {
            dunbot::message::Block::Item { text, .. } if text.contains("NORTH-001") => Some(text),
            _ => None,
        })
        .unwrap();
    assert!(line.contains("stage: Agency referral"), "{line}");
    // Each account once; counts in the right number.
    assert_eq!(text.matches("*LONE-001*").count(), 1, "{text}");
    assert!(
        !text.contains("(1 accounts)") && !text.contains(" 1 accounts"),
        "{text}"
    );
    // A do-not-contact account still has no reminder button; a collector may remind others.
    assert!(!text.contains("remind QUIET-001") && text.contains("remind LONE-001"));
}

#[tokio::test]
async fn bad_input_is_refused_in_plain_words_and_writes_nothing() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    for amount in ["ten", "abc"] {
        refused(
            &app,
            &maria,
            &format!("promise ACME-001 {amount} fri"),
            &[&format!("\"{amount}\" is not an amount"), "1250.00"],
        )
        .await;
    }
    // Control characters: refused before anything is written; the log keeps a readable row.
    for line in [
        "flag ACME-001 late\u{0}payer",
        "promise ACME-001 100\u{7} fri",
    ] {
        let out = refused(&app, &maria, line, &["control character", "Retype"]).await;
        assert!(!out.reply.text.contains('\u{0}'));
    }
    let logged: String = sqlx::query_scalar(
        "SELECT details->>'command' FROM actions WHERE details->>'command' LIKE 'flag ACME-001 late%'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(logged, "flag ACME-001 late\u{FFFD}payer");
    // The cooldown says when in words people use.
    assert!(!say(&app, &maria, "remind LONE-001").await.refused);
    refused(
        &app,
        &maria,
        "remind LONE-001",
        &["(earlier today)", "--force"],
    )
    .await;
    let tomorrow = today() + chrono::Days::new(1);
    let out = run_as(&app, &maria, "cool-2", "remind LONE-001", tomorrow).await;
    assert!(
        out.refused && out.reply.text.contains("(yesterday)"),
        "{}",
        out.reply.text
    );
}

#[tokio::test]
async fn a_control_character_from_slack_is_refused_in_words() {
    let bot = bot().await;
    bot.command("UCOLL", "flag ACME-001 late\u{0}payer", "nul")
        .await;
    bot.fake
        .wait_until("the refusal", |f| !f.calls("response:nul").is_empty())
        .await;
    let reply = &bot.fake.calls("response:nul")[0].body;
    assert_eq!(reply["response_type"], "ephemeral");
    let text = reply["text"].as_str().unwrap();
    assert!(text.contains("control character"), "{text}");
    assert_eq!(count(&bot.app, "flags").await, 0);
}

#[tokio::test]
async fn a_reminder_says_it_was_queued_and_when_it_goes_out() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    // 10:00 UTC is 05:00 in New York: outside ACME's send window, and no SMTP here.
    let out = say(&app, &maria, "remind ACME-001").await;
    let line = out.resolved.clone().unwrap();
    assert!(
        line.starts_with("Friendly reminder queued by maria")
            && line.contains("will go out Mon 2026-11-23 09:00 EST")
            && line.contains("once email is set up"),
        "{line}"
    );
    assert!(!line.contains("sent"), "{line}");
    assert!(
        out.reply
            .text
            .contains("will go out Mon 2026-11-23 09:00 EST")
    );
    // With email configured and inside the window it goes out in a moment.
    let configured = App::new(
        dunbot::config::Settings {
            mail_configured: true,
            ..settings()
        },
        app.store.clone(),
    );
    let out = say(&configured, &maria, "remind LONE-001").await;
    let line = out.resolved.unwrap();
    assert!(
        line.contains("queued by maria") && line.contains("goes out in a moment"),
        "{line}"
    );
}

#[tokio::test]
async fn views_are_logged_lightly_and_a_retry_is_answered_again() {
    let (app, _db) = ready().await;
    let maria = person("maria", Role::Collector);
    let first = run_as(&app, &maria, "view-1", "digest", today()).await;
    assert!(!first.refused && first.reply.text.contains("Collections digest"));
    let (kind, size, viewed, has_reply): (String, i32, bool, bool) = sqlx::query_as(
        "SELECT kind, length(details::text), (details->>'viewed')::bool, details ? 'reply'
           FROM actions WHERE idempotency_key = 'view-1'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!((kind.as_str(), viewed, has_reply), ("digest", true, false));
    assert!(size < 300, "the row holds {size} bytes");
    // The same request again (a platform retry) is answered afresh, and logged once.
    let again = run_as(&app, &maria, "view-1", "digest", today()).await;
    assert_eq!(again.reply, first.reply);
    assert!(!again.refused && again.replayed && !first.replayed);
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM actions WHERE idempotency_key = 'view-1'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(rows, 1);
    // The card records which account was viewed; a change keeps its full reply for replay.
    run_as(&app, &maria, "view-2", "account ACME-001", today()).await;
    let subject: Option<String> =
        sqlx::query_scalar("SELECT subject FROM actions WHERE idempotency_key = 'view-2'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(subject.as_deref(), Some("ACME-001"));
    run_as(&app, &maria, "change-1", "flag ACME-001 no answer", today()).await;
    let has_reply: bool = sqlx::query_scalar(
        "SELECT details ? 'reply' FROM actions WHERE idempotency_key = 'change-1'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert!(has_reply);
    let replayed = run_as(&app, &maria, "change-1", "flag ACME-001 no answer", today()).await;
    assert!(replayed.replayed);
}

#[tokio::test]
async fn the_console_binary_refuses_a_control_character_and_logs_a_digest_lightly() {
    use std::io::Write;
    let (app, db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dunbot"))
        .args(["console", "--as", "maria", "--role", "collector"])
        .env("DATABASE_URL", &db.url)
        .env_remove("SMTP_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ar flag ACME-001 late\0payer\nar digest\n")
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("control character") && stdout.contains("Collections digest"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("Something went wrong"), "{stdout}");
    assert_eq!(count(&app, "flags").await, 0);
    let (outcome, size): (String, i32) =
        sqlx::query_as("SELECT outcome, length(details::text) FROM actions WHERE kind = 'digest'")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(outcome, "ok");
    assert!(size < 300, "{size} bytes");
}
