//! Tiered settlement approval: the policy's limits by the share of the balance an offer
//! recovers decide who must approve it; each approval is recorded, the agency hears only the
//! final decision, and every copy of the offer says what is still needed. On the console, and
//! on Slack and Discord through the real clients against the loopback fakes.
use crate::support::*;
use dunbot::app::{Actor, App, Platform};
use dunbot::domain::policy::Policy;
use dunbot::domain::roles::Role;

/// At least 90%: a manager or finance; 70–90%: a manager; below: two, one from finance.
pub const LIMITS: &str = r#"
[[settlement_approval]]
at_least = 90
approvers = ["manager", "finance"]

[[settlement_approval]]
at_least = 70
approvers = ["manager"]

[[settlement_approval]]
at_least = 0
approvals = 2
require = ["finance"]
"#;

/// The default policy's plans with `LIMITS` added.
pub fn tiered_policy() -> Policy {
    let text = format!("{}\n{LIMITS}", Policy::defaults().to_toml());
    Policy::from_toml(&text).expect("the limits parse")
}

fn admin() -> Actor {
    Actor {
        platform: Platform::Console,
        user_id: "root".into(),
        name: "root".into(),
        roles: vec![Role::Admin],
        agency: None,
    }
}

async fn tiered_app() -> (App, TestDb) {
    let db = TestDb::new().await;
    let mut s = settings();
    s.policy = tiered_policy();
    let app = App::new(s, db.store.clone());
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
    let out = run_as(
        &app,
        &admin(),
        "refer",
        "refer BOLT-001 \"Northwind Recovery\"",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    (app, db)
}

async fn say(app: &App, who: &Actor, text: &str) -> dunbot::app::Outcome {
    run_as(
        app,
        who,
        &format!("t-{}", uuid::Uuid::new_v4()),
        text,
        today(),
    )
    .await
}

async fn status(app: &App, id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM offers WHERE id = $1")
        .bind(id)
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

/// How many decision pings the agency was sent for offer `id`.
async fn agency_pings(app: &App, id: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox WHERE dedupe_key LIKE $1")
        .bind(format!("offer:{id}:decision:%"))
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

async fn offer(app: &App, amount: &str) -> i64 {
    let out = say(app, &admin(), &format!("offer BOLT-001 {amount}")).await;
    assert!(!out.refused, "{}", out.reply.text);
    sqlx::query_scalar("SELECT max(id) FROM offers")
        .fetch_one(&app.store.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn limits_by_share_decide_who_approves_and_the_agency_hears_only_the_final_word() {
    let (app, _db) = tiered_app().await;
    let maria = person("maria", Role::Manager);
    let priya = person("priya", Role::Manager);
    let fay = person("fay", Role::Finance);
    let sam = person("sam", Role::Collector);

    // 80% of BOLT-001's USD 5,000.00: a manager's call; finance may not decide it.
    let id = offer(&app, "4000").await;
    let out = say(&app, &fay, &format!("settle {id} approve")).await;
    assert!(out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains("80%") && out.reply.text.contains("only manager"),
        "{}",
        out.reply.text
    );
    let out = say(&app, &sam, &format!("settle {id} approve")).await;
    assert!(out.refused, "{}", out.reply.text);
    let out = say(&app, &maria, &format!("settle {id} approve")).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert_eq!(status(&app, id).await, "approved");
    assert_eq!(agency_pings(&app, id).await, 1);

    // 50%: two approvals, one from finance. The first is recorded and the offer waits.
    let id = offer(&app, "2500").await;
    let ping: serde_json::Value =
        sqlx::query_scalar("SELECT payload->'message' FROM outbox WHERE dedupe_key = $1")
            .bind(format!("offer:{id}:managers"))
            .fetch_one(&app.store.pool)
            .await
            .unwrap();
    assert!(
        ping.to_string()
            .contains("Needs 2 approvals, one from finance."),
        "{ping}"
    );
    assert!(
        ping["mentions"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"type": "finance"})),
        "{ping}"
    );
    let out = say(&app, &maria, &format!("settle {id} approve")).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains("1 of 2 approvals; needs finance"),
        "{}",
        out.reply.text
    );
    assert_eq!(status(&app, id).await, "proposed");
    assert_eq!(agency_pings(&app, id).await, 0, "nothing final yet");
    // The same manager again, and a second manager for the finance slot: refused, unwritten.
    for (who, expect) in [
        (&maria, "already approved"),
        (&priya, "must come from a finance"),
    ] {
        let before = count(&app, "offer_approvals").await;
        let out = say(&app, who, &format!("settle {id} approve")).await;
        assert!(out.refused, "{}", out.reply.text);
        assert!(out.reply.text.contains(expect), "{}", out.reply.text);
        assert_eq!(count(&app, "offer_approvals").await, before);
    }
    // Finance completes it: approved by both, the agency pinged once.
    let out = say(&app, &fay, &format!("settle {id} approve fine by finance")).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert!(
        out.reply.text.contains("approved by maria and fay"),
        "{}",
        out.reply.text
    );
    assert_eq!(status(&app, id).await, "approved");
    assert_eq!(agency_pings(&app, id).await, 1);
    let approvals: Vec<(String, Vec<String>)> = sqlx::query_as(
        "SELECT approver_name, roles FROM offer_approvals WHERE offer_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&app.store.pool)
    .await
    .unwrap();
    assert_eq!(
        approvals,
        vec![
            ("maria".to_string(), vec!["manager".to_string()]),
            ("fay".to_string(), vec!["finance".to_string()])
        ]
    );

    // A rejection by anyone entitled ends it at once, even after one approval.
    let id = offer(&app, "1000").await;
    assert!(
        !say(&app, &maria, &format!("settle {id} approve"))
            .await
            .refused
    );
    let out = say(&app, &fay, &format!("settle {id} reject too low")).await;
    assert!(!out.refused, "{}", out.reply.text);
    assert_eq!(status(&app, id).await, "rejected");
    assert_eq!(agency_pings(&app, id).await, 1);
}

#[tokio::test]
async fn the_default_policy_keeps_one_manager_deciding() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    dunbot::app::admin::add_agency(&app, "Northwind Recovery", None, None, Some("console:a"))
        .await
        .unwrap();
    assert!(
        !say(&app, &admin(), "refer BOLT-001 \"Northwind Recovery\"")
            .await
            .refused
    );
    let id = offer(&app, "1000").await;
    let out = say(
        &app,
        &person("fay", Role::Finance),
        &format!("settle {id} approve"),
    )
    .await;
    assert!(out.refused, "{}", out.reply.text);
    let out = say(
        &app,
        &person("maria", Role::Manager),
        &format!("settle {id} approve"),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);
    assert_eq!(status(&app, id).await, "approved");
}
