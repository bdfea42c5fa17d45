//! Reminder texts end to end: consent recorded with `ar contact`, `ar remind … sms` queued and
//! sent through the outbox to a loopback Twilio that checks basic auth and the form, delivery
//! status callbacks and the customer's STOP / START through the signed webhooks over real
//! HTTP, the refusals (no consent, do-not-contact, no phone), Twilio's errors, and the import.
use crate::fake_twilio::{ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio, fixture};
use crate::support::*;
use dunbot::app::App;
use dunbot::clock::Clock;
use dunbot::domain::roles::Role;
use dunbot::edges::twilio::signature::sign;
use dunbot::notify::sms::{Sender, SmsDeliverer, TwilioSettings};
use dunbot::notify::templates::PayInfo;
use dunbot::notify::{Deliverers, drain_once};
use std::sync::Arc;
use std::time::Duration;

const PUBLIC: &str = "https://bot.example.com";
/// ACME-001's phone in the sample customers file (`+1-555-0100`), in E.164 form.
const ACME_PHONE: &str = "+15550100";

fn twilio(fake: &FakeTwilio) -> TwilioSettings {
    TwilioSettings {
        account_sid: ACCOUNT_SID.into(),
        auth_token: AUTH_TOKEN.into(),
        sender: Sender::From(FROM.into()),
        api_url: fake.url.clone(),
        public_url: Some(PUBLIC.into()),
        pay: PayInfo {
            company: "Example Co".into(),
            payment_link: Some("https://pay.example.co/{account}".into()),
            bank_details: None,
            contact: "ar@example.co".into(),
        },
        template_dir: None,
        timeout: Duration::from_secs(5),
    }
}

/// A worker that sends texts, its clock fixed at 10:00 UTC on the test day.
fn worker(app: &App, fake: &FakeTwilio) -> Deliverers {
    let now = at(today(), 15);
    let d = SmsDeliverer::new(twilio(fake), &app.settings, app.store.clone())
        .unwrap()
        .with_clock(Arc::new(move || now));
    Deliverers::new(3).add("sms", Arc::new(d))
}

async fn ready() -> (Arc<App>, TestDb) {
    let db = TestDb::new().await;
    let app = App::new(
        dunbot::config::Settings {
            sms_configured: true,
            ..settings()
        },
        db.store.clone(),
    )
    .with_clock(Clock::Fixed(at(today(), 15)));
    seed(&app, CUSTOMERS, INVOICES, None).await;
    (Arc::new(app), db)
}

fn maria() -> dunbot::app::Actor {
    person("maria", Role::Collector)
}

/// Runs `text` as maria at 15:00 UTC on the test day: 10:00 in New York, inside ACME-001's
/// send window, so a text goes out at once.
async fn run(app: &App, id: &str, text: &str) -> dunbot::app::Outcome {
    app.handle(dunbot::app::Invocation {
        actor: maria(),
        channel: "console:test".into(),
        request_id: id.into(),
        text: text.into(),
        source: dunbot::app::Source::Command,
        now: at(today(), 15),
        as_of: Some(today()),
    })
    .await
}

async fn outbox_sms(app: &App) -> Vec<(String, Option<String>, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT status, provider_id, delivery_status, last_error FROM outbox WHERE kind = 'sms' ORDER BY id",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap()
}

async fn actions_of(app: &App, kind: &str) -> Vec<(String, Option<String>, String)> {
    sqlx::query_as(
        "SELECT actor_name, subject, details::text FROM actions WHERE kind = $1 ORDER BY id",
    )
    .bind(kind)
    .fetch_all(&app.store.pool)
    .await
    .unwrap()
}

/// The Twilio webhooks on a real HTTP server on loopback; its base URL.
async fn serve_webhooks(app: &Arc<App>) -> String {
    let router = dunbot::edges::twilio::router(app.clone(), AUTH_TOKEN, PUBLIC);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    url
}

/// POSTs `params` as Twilio would to `path`, signed over the public URL (or not, with `None`).
async fn post_signed(
    base: &str,
    path: &str,
    params: &[(String, String)],
    token: Option<&str>,
) -> (u16, String) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish();
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(token) = token {
        req = req.header(
            "X-Twilio-Signature",
            sign(token, &format!("{PUBLIC}{path}"), params),
        );
    }
    let resp = req.body(body).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Twilio's published inbound-SMS body, from `from` saying `body`, every other field kept.
fn inbound(from: &str, body: &str, sid: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(fixture("inbound-sms.form").trim().as_bytes())
        .map(|(k, v)| {
            let v = match k.as_ref() {
                "From" => from.to_string(),
                "Body" => body.to_string(),
                "MessageSid" | "SmsMessageSid" | "SmsSid" => sid.to_string(),
                _ => v.into_owned(),
            };
            (k.into_owned(), v)
        })
        .collect()
}

fn status_form(sid: &str, status: &str) -> Vec<(String, String)> {
    [
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("From", FROM),
        ("MessageSid", sid),
        ("MessageStatus", status),
        ("SmsSid", sid),
        ("SmsStatus", status),
        ("To", ACME_PHONE),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test]
async fn a_text_goes_through_twilio_and_its_status_comes_back() {
    let (app, _db) = ready().await;
    let fake = FakeTwilio::start().await;
    let ds = worker(&app, &fake);

    let on = run(&app, "c1", "contact ACME-001 sms on").await;
    assert!(!on.refused, "{}", on.reply.text);
    assert!(on.reply.text.contains(ACME_PHONE), "{}", on.reply.text);
    let out = run(&app, "r1", "remind ACME-001 sms").await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains("reminder text queued to +15550100")
            && out.reply.text.contains("goes out in a moment"),
        "{}",
        out.reply.text
    );
    assert_eq!(sends(&app).await, 1, "a text only, no email");

    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    let calls = fake.calls();
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert!(c.authorized && c.status == 201, "{c:?}");
    assert_eq!(c.get("To"), Some(ACME_PHONE));
    assert_eq!(c.get("From"), Some(FROM));
    assert_eq!(c.get("MessagingServiceSid"), None);
    assert_eq!(
        c.get("StatusCallback"),
        Some("https://bot.example.com/twilio/status")
    );
    let body = c.get("Body").unwrap();
    for part in [
        "Example Co",
        "USD 1,250.00",
        "https://pay.example.co/ACME-001",
        "STOP",
    ] {
        assert!(body.contains(part), "{part} in {body}");
    }
    let rows = outbox_sms(&app).await;
    let sid = c.sid.clone().unwrap();
    assert_eq!(rows[0].0, "sent");
    assert_eq!(rows[0].1.as_deref(), Some(sid.as_str()));
    assert_eq!(rows[0].2.as_deref(), Some("queued"));

    // Status callbacks through the signed webhook: delivered, once; a late "sent" after it
    // changes nothing; an unsigned one is refused.
    let base = serve_webhooks(&app).await;
    let (st, _) = post_signed(
        &base,
        "/twilio/status",
        &status_form(&sid, "delivered"),
        None,
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!(outbox_sms(&app).await[0].2.as_deref(), Some("queued"));
    let (st, reply) = post_signed(
        &base,
        "/twilio/status",
        &status_form(&sid, "delivered"),
        Some(AUTH_TOKEN),
    )
    .await;
    assert_eq!((st, reply.contains("<Response/>")), (200, true), "{reply}");
    post_signed(
        &base,
        "/twilio/status",
        &status_form(&sid, "delivered"),
        Some(AUTH_TOKEN),
    )
    .await;
    post_signed(
        &base,
        "/twilio/status",
        &status_form(&sid, "sent"),
        Some(AUTH_TOKEN),
    )
    .await;
    assert_eq!(outbox_sms(&app).await[0].2.as_deref(), Some("delivered"));
    let delivered = actions_of(&app, "text_delivered").await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].1.as_deref(), Some("ACME-001"));
    // Signed with another token: refused.
    let (st, _) = post_signed(
        &base,
        "/twilio/status",
        &status_form(&sid, "failed"),
        Some("wrong"),
    )
    .await;
    assert_eq!(st, 403);

    // The card shows the consent and the texts.
    let card = run(&app, "v1", "account ACME-001").await;
    let shown = dunbot::edges::console::render::render(&card.reply);
    assert!(
        shown.contains("Texts")
            && shown.contains("consent given (maria, 2026-11-23) · 1 text, last "),
        "{shown}"
    );
    assert!(shown.contains(" delivered"), "{shown}");

    // Too soon for another: the refusal's --force hint still sends a text, not an email.
    let out = run(&app, "r2-soon", "remind ACME-001 firm sms").await;
    assert!(
        out.refused && out.reply.text.contains("remind ACME-001 firm sms --force`"),
        "{}",
        out.reply.text
    );
    // A second text fails at the carrier: marked failed, on the timeline.
    let out = run(&app, "r2", "remind ACME-001 firm sms --force").await;
    assert!(!out.refused, "{}", out.reply.text);
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 1);
    let sid2 = fake.calls()[1].sid.clone().unwrap();
    let mut form = status_form(&sid2, "failed");
    form.push(("ErrorCode".into(), "30003".into()));
    let (st, _) = post_signed(&base, "/twilio/status", &form, Some(AUTH_TOKEN)).await;
    assert_eq!(st, 200);
    assert_eq!(outbox_sms(&app).await[1].2.as_deref(), Some("failed"));
    let failed = actions_of(&app, "text_failed").await;
    assert_eq!(failed.len(), 1);
    assert!(failed[0].2.contains("30003"), "{:?}", failed[0]);
}

#[tokio::test]
async fn stop_and_start_through_the_signed_webhook() {
    let (app, _db) = ready().await;
    let fake = FakeTwilio::start().await;
    let ds = worker(&app, &fake);
    let base = serve_webhooks(&app).await;
    assert!(!run(&app, "c1", "contact ACME-001 sms on").await.refused);
    // A text is queued, then the customer texts STOP before it leaves.
    assert!(!run(&app, "r1", "remind ACME-001 sms").await.refused);

    // Unsigned: refused, nothing changes.
    let stop = inbound(ACME_PHONE, "Stop", "SMstop0000000000000000000000000001");
    let (st, _) = post_signed(&base, "/twilio/sms", &stop, None).await;
    assert_eq!(st, 403);
    assert!(actions_of(&app, "sms_opt_out").await.is_empty());

    let (st, reply) = post_signed(&base, "/twilio/sms", &stop, Some(AUTH_TOKEN)).await;
    assert_eq!(st, 200);
    assert!(reply.ends_with("<Response/>"), "empty TwiML: {reply}");
    // Twilio retries the webhook: it acts once.
    post_signed(&base, "/twilio/sms", &stop, Some(AUTH_TOKEN)).await;
    let out = actions_of(&app, "sms_opt_out").await;
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, "customer via Twilio");
    assert_eq!(out[0].1.as_deref(), Some("ACME-001"));

    // The queued text is dropped at send time, with the reason; Twilio is never called.
    assert_eq!(drain_once(&app.store, &ds, 10).await.unwrap(), 0);
    assert!(fake.calls().is_empty());
    let rows = outbox_sms(&app).await;
    assert_eq!(rows[0].0, "dropped");
    assert!(
        rows[0].3.as_deref().unwrap().contains("texted STOP"),
        "{rows:?}"
    );

    // A new text is refused and says why; importing "consent yes" again does not undo STOP.
    let refused = run(&app, "r2", "remind ACME-001 sms --force").await;
    assert!(
        refused.refused && refused.reply.text.contains("texted STOP"),
        "{}",
        refused.reply.text
    );
    let customers = "account,name,email,phone,currency,timezone,owner,sms_consent\n\
                     ACME-001,Acme Corp,ap@acme.example,+1-555-0100,USD,America/New_York,maria,yes\n";
    let path = tempdir().join("customers.csv");
    std::fs::write(&path, customers).unwrap();
    dunbot::app::admin::import_file(
        &app,
        dunbot::app::admin::ImportKind::Customers,
        &path,
        Some(today()),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(run(&app, "r3", "remind ACME-001 sms --force").await.refused);

    // START: texts are back on.
    let start = inbound(ACME_PHONE, "START", "SMstart000000000000000000000000001");
    let (st, _) = post_signed(&base, "/twilio/sms", &start, Some(AUTH_TOKEN)).await;
    assert_eq!(st, 200);
    assert_eq!(actions_of(&app, "sms_opt_in").await.len(), 1);
    let again = run(&app, "r4", "remind ACME-001 sms --force").await;
    assert!(!again.refused, "{}", again.reply.text);

    // Any other text from the customer lands on the account's timeline, consent unchanged.
    let note = inbound(
        ACME_PHONE,
        "Paying Friday, sorry",
        "SMnote0000000000000000000000000001",
    );
    post_signed(&base, "/twilio/sms", &note, Some(AUTH_TOKEN)).await;
    let got = actions_of(&app, "sms_received").await;
    assert_eq!(got.len(), 1);
    assert!(got[0].2.contains("Paying Friday"), "{got:?}");
    assert!(!run(&app, "r5", "remind ACME-001 sms --force").await.refused);
}

#[tokio::test]
async fn texts_are_refused_without_consent_phone_or_contact_and_write_nothing() {
    let (app, _db) = ready().await;
    let before = count(&app, "outbox").await;
    // No consent recorded.
    let out = run(&app, "r1", "remind ACME-001 sms").await;
    assert!(out.refused);
    assert!(
        out.reply.text.contains("has not consented")
            && out.reply.text.contains("contact ACME-001 sms on"),
        "{}",
        out.reply.text
    );
    // Do-not-contact: neither consent nor a text.
    let out = run(&app, "c1", "contact QUIET-001 sms on").await;
    assert!(
        out.refused && out.reply.text.contains("do-not-contact"),
        "{}",
        out.reply.text
    );
    let out = run(&app, "r2", "remind QUIET-001 sms").await;
    assert!(
        out.refused && out.reply.text.contains("do-not-contact"),
        "{}",
        out.reply.text
    );
    // No phone on file.
    let out = run(&app, "c2", "contact BOLT-001 sms on").await;
    assert!(
        out.refused && out.reply.text.contains("no phone number"),
        "{}",
        out.reply.text
    );
    // `both` with a refused text queues no email either.
    let out = run(&app, "r3", "remind ACME-001 both").await;
    assert!(out.refused, "{}", out.reply.text);
    assert_eq!(count(&app, "outbox").await, before);
    assert_eq!(count(&app, "sms_consents").await, 0);
    assert_eq!(count(&app, "reminders").await, 0);

    // Consent withdrawn after queueing: dropped at send time, with the reason.
    let fake = FakeTwilio::start().await;
    assert!(!run(&app, "c3", "contact ACME-001 sms on").await.refused);
    let both = run(&app, "r4", "remind ACME-001 both").await;
    assert!(
        !both.refused
            && both
                .reply
                .text
                .contains("A text to +15550100 is queued too"),
        "{}",
        both.reply.text
    );
    // Each channel has its reminders row: history and the response per channel count both.
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT o.kind FROM reminders r JOIN outbox o ON o.id = r.outbox_id ORDER BY o.kind",
    )
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(kinds, ["email", "sms"]);
    let off = run(&app, "c4", "contact ACME-001 sms off").await;
    assert!(off.reply.text.contains("are off"), "{}", off.reply.text);
    drain_once(&app.store, &worker(&app, &fake), 10)
        .await
        .unwrap();
    assert!(fake.calls().is_empty());
    let rows = outbox_sms(&app).await;
    assert_eq!(rows[0].0, "dropped");
    assert!(
        rows[0].3.as_deref().unwrap().contains("withdrawn"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn without_twilio_the_reply_says_the_text_waits_in_the_outbox() {
    let db = TestDb::new().await;
    let app = App::new(settings(), db.store.clone());
    seed(&app, CUSTOMERS, INVOICES, None).await;
    assert!(!run(&app, "c1", "contact ACME-001 sms on").await.refused);
    let out = run(&app, "r1", "remind ACME-001 sms").await;
    assert!(!out.refused);
    assert!(
        out.reply.text.contains("once Twilio is set up")
            && out.reply.text.contains("waits in the outbox"),
        "{}",
        out.reply.text
    );
    assert_eq!(sends(&app).await, 1);
}

#[tokio::test]
async fn twilio_errors_retry_or_give_up_with_the_reason() {
    let (app, _db) = ready().await;
    let fake = FakeTwilio::start().await;
    let ds = worker(&app, &fake);
    assert!(!run(&app, "c1", "contact ACME-001 sms on").await.refused);
    assert!(!run(&app, "r1", "remind ACME-001 sms").await.refused);
    fake.answer_next(
        429,
        serde_json::json!({"code": 20429, "message": "Too Many Requests", "status": 429}),
    );
    drain_once(&app.store, &ds, 10).await.unwrap();
    let rows = outbox_sms(&app).await;
    assert_eq!(rows[0].0, "pending", "a 429 is tried again");
    assert!(rows[0].3.as_deref().unwrap().contains("429"), "{rows:?}");

    // Another account whose number Twilio refuses (21211): dead at once, with Twilio's reason.
    sqlx::query("UPDATE outbox SET status = 'sent' WHERE kind = 'sms'")
        .execute(&app.store.pool)
        .await
        .unwrap();
    assert!(!run(&app, "r2", "remind ACME-001 sms --force").await.refused);
    fake.answer_next(400, serde_json::json!({"code": 21211, "message": "The 'To' number +15550100 is not a valid phone number.", "status": 400}));
    drain_once(&app.store, &ds, 10).await.unwrap();
    let rows = outbox_sms(&app).await;
    assert_eq!(rows[1].0, "dead");
    assert!(rows[1].3.as_deref().unwrap().contains("21211"), "{rows:?}");
    // Every request carried the right credentials.
    assert!(fake.calls().iter().all(|c| c.authorized));
}

#[tokio::test]
async fn the_fake_twilio_refuses_wrong_credentials() {
    // The fake's checks are real: a worker with another token gets 20003 and the text dies.
    let (app, _db) = ready().await;
    let fake = FakeTwilio::start().await;
    let mut s = twilio(&fake);
    s.auth_token = "wrong".into();
    let now = at(today(), 15);
    let d = SmsDeliverer::new(s, &app.settings, app.store.clone())
        .unwrap()
        .with_clock(Arc::new(move || now));
    let ds = Deliverers::new(3).add("sms", Arc::new(d));
    assert!(!run(&app, "c1", "contact ACME-001 sms on").await.refused);
    assert!(!run(&app, "r1", "remind ACME-001 sms").await.refused);
    drain_once(&app.store, &ds, 10).await.unwrap();
    let calls = fake.calls();
    assert!(!calls[0].authorized);
    let rows = outbox_sms(&app).await;
    assert_eq!(rows[0].0, "dead");
    assert!(rows[0].3.as_deref().unwrap().contains("20003"), "{rows:?}");
}

#[tokio::test]
async fn import_checks_phones_and_records_consent() {
    use dunbot::app::admin::{ImportKind, import_file};
    let (app, _db) = ready().await;
    let dir = tempdir();
    let path = dir.join("customers.csv");
    std::fs::write(
        &path,
        "account,name,email,phone,currency,timezone,owner,sms_consent\n\
         NEW-001,New Co,ap@new.example,+44 20 7946 0958,GBP,Europe/London,tom,yes\n\
         NEW-002,Other Co,ap@other.example,020 7946 0958,GBP,Europe/London,tom,no\n\
         NEW-003,Third Co,ap@third.example,,GBP,Europe/London,tom,yes\n\
         NEW-004,Fourth Co,ap@fourth.example,+15558675310,USD,UTC,tom,maybe\n",
    )
    .unwrap();
    let errs = import_file(&app, ImportKind::Customers, &path, Some(today()))
        .await
        .unwrap()
        .unwrap_err();
    let lines: Vec<(u64, Option<String>)> =
        errs.iter().map(|e| (e.line, e.field.clone())).collect();
    assert_eq!(
        lines,
        vec![
            (3, Some("phone".into())),
            (4, Some("sms_consent".into())),
            (5, Some("sms_consent".into()))
        ],
        "{errs:?}"
    );
    assert!(
        errs[0].reason.contains("E.164") && errs[0].reason.contains("020 7946 0958"),
        "{errs:?}"
    );
    assert_eq!(count(&app, "sms_consents").await, 0, "nothing written");

    std::fs::write(
        &path,
        "account,name,email,phone,currency,timezone,owner,sms_consent\n\
         NEW-001,New Co,ap@new.example,+44 20 7946 0958,GBP,Europe/London,tom,yes\n",
    )
    .unwrap();
    import_file(&app, ImportKind::Customers, &path, Some(today()))
        .await
        .unwrap()
        .unwrap();
    let (phone, consent): (String, bool) =
        sqlx::query_as("SELECT phone, consent FROM sms_consents")
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert_eq!((phone.as_str(), consent), ("+442079460958", true));
}

#[tokio::test]
async fn contact_and_remind_by_text_from_slack() {
    use crate::slack_support::bot;
    let bot = bot().await;
    let said = |rid: &'static str| {
        let fake = bot.fake.clone();
        async move {
            fake.wait_until("the reply", |f| {
                !f.calls(&format!("response:{rid}")).is_empty()
            })
            .await;
            fake.calls(&format!("response:{rid}"))[0].body.to_string()
        }
    };
    assert_eq!(
        bot.command("UCOLL", "remind ACME-001 sms", "s0")
            .await
            .status(),
        200
    );
    let refused = said("s0").await;
    assert!(
        refused.contains("has not consented") && refused.contains("ephemeral"),
        "{refused}"
    );
    assert_eq!(
        bot.command("UCOLL", "contact ACME-001 sms on", "s1")
            .await
            .status(),
        200
    );
    let on = said("s1").await;
    assert!(
        on.contains("Texts to ACME-001 (Acme Corp) at +15550100 are on"),
        "{on}"
    );
    assert_eq!(
        bot.command("UCOLL", "remind ACME-001 sms", "s2")
            .await
            .status(),
        200
    );
    let queued = said("s2").await;
    assert!(
        queued.contains("reminder text queued to +15550100"),
        "{queued}"
    );
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM outbox WHERE kind = 'sms'")
        .fetch_all(&bot.app.store.pool)
        .await
        .unwrap();
    assert_eq!(kinds, vec!["sms".to_string()]);
    let actor: String =
        sqlx::query_scalar("SELECT actor_platform FROM actions WHERE kind = 'contact'")
            .fetch_one(&bot.app.store.pool)
            .await
            .unwrap();
    assert_eq!(actor, "slack");
}

#[tokio::test]
async fn contact_and_remind_by_text_from_discord() {
    use crate::discord_gateway::Running;
    use crate::fake_discord::*;
    use serde_json::json;
    let r = Running::start(|_| {}).await;
    let carla = || member(111, "carla", &[COLLECTOR_ROLE]);
    let answer = |id: u64| {
        let fake = r.fake.clone();
        async move {
            let path = format!("/interactions/{id}/token-{id}/callback");
            let calls = fake
                .wait_for(&path, |c| c.iter().any(|c| c.path.contains(&path)))
                .await;
            calls
                .into_iter()
                .find(|c| c.path.contains(&path))
                .unwrap()
                .body
                .to_string()
        }
    };
    r.fake.interaction(slash(
        6001,
        CHANNEL,
        carla(),
        "ar",
        "contact",
        &[
            ("account", json!("ACME-001")),
            ("channel", json!("sms")),
            ("state", json!("on")),
        ],
    ));
    let on = answer(6001).await;
    assert!(on.contains("at +15550100 are on"), "{on}");
    r.fake.interaction(slash(
        6002,
        CHANNEL,
        carla(),
        "ar",
        "remind",
        &[("target", json!("ACME-001")), ("channel", json!("sms"))],
    ));
    let queued = answer(6002).await;
    assert!(
        queued.contains("reminder text queued to +15550100"),
        "{queued}"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE kind = 'sms'")
        .fetch_one(&r.app.store.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn the_automatic_plan_texts_a_stage_whose_channel_is_sms() {
    let db = TestDb::new().await;
    let mut policy = dunbot::domain::policy::Policy::defaults().to_toml();
    policy = policy.replacen(
        "stage = \"day_after_reminder\"",
        "stage = \"day_after_reminder\"\nchannel = \"sms\"",
        1,
    );
    let app = App::new(
        dunbot::config::Settings {
            policy: dunbot::domain::policy::Policy::from_toml(&policy).unwrap(),
            ..settings()
        },
        db.store.clone(),
    );
    seed(&app, CUSTOMERS, INVOICES, None).await;
    assert!(!run(&app, "c1", "contact ACME-001 sms on").await.refused);
    // INV-1002 falls due on Thu 2026-11-26: its day-after reminder is Fri 2026-11-27.
    let day = d("2026-11-27");
    let report = dunbot::app::autoplan::run(&app, day, at(day, 8))
        .await
        .unwrap();
    assert!(report.queued >= 1 && report.refused == 0, "{report:?}");
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT payload->>'account', kind, payload->>'to' FROM outbox WHERE kind <> 'case_event' ORDER BY id")
            .fetch_all(&app.store.pool)
            .await
            .unwrap();
    // ACME-001's day-after reminder goes as a text; other accounts' stages stay email.
    let acme: Vec<_> = rows.iter().filter(|r| r.0 == "ACME-001").collect();
    assert_eq!(acme.len(), 1, "{rows:?}");
    assert_eq!(
        (acme[0].1.as_str(), acme[0].2.as_str()),
        ("sms", ACME_PHONE)
    );
    assert!(
        rows.iter()
            .filter(|r| r.0 != "ACME-001")
            .all(|r| r.1 == "email"),
        "{rows:?}"
    );
    let stage: Option<String> = sqlx::query_scalar(
        "SELECT r.stage FROM reminders r JOIN accounts a ON a.id = r.account_id WHERE a.code = 'ACME-001'",
    )
    .fetch_one(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(stage.as_deref(), Some("day_after_reminder"));
}
