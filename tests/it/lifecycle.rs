//! Promises resolved from payments, and collection stages over a simulated month.
use crate::support::*;
use dunbot::app::automatic::resolve_promises;
use dunbot::digest;
use dunbot::domain::policy::{Pause, Stage};
use dunbot::domain::roles::Role;

#[tokio::test]
async fn a_promise_turns_kept_from_a_payment_and_another_broken_after_the_grace_days() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let maria = person("maria", Role::Collector);
    // Monday: ACME promises 500 by Wednesday, BOLT 1000 by Wednesday.
    assert!(
        !run_as(
            &app,
            &maria,
            "p1",
            "promise ACME-001 500 2026-11-25",
            today()
        )
        .await
        .refused
    );
    assert!(
        !run_as(
            &app,
            &maria,
            "p2",
            "promise BOLT-001 1000 2026-11-25",
            today()
        )
        .await
        .refused
    );
    // ACME pays 300 on Tuesday and 200 on Thursday (within 2 business days of grace).
    let dir = tempdir();
    let pay = dir.join("p.csv");
    std::fs::write(&pay, "account,invoice,paid_on,amount,currency,reference\nACME-001,INV-1001,2026-11-24,300.00,USD,A1\nACME-001,INV-1001,2026-11-26,200.00,USD,A2\n").unwrap();
    dunbot::app::admin::import_file(
        &app,
        dunbot::app::admin::ImportKind::Payments,
        &pay,
        Some(today()),
    )
    .await
    .unwrap()
    .unwrap();
    // Wednesday: only 300 paid, nothing resolved. Friday (grace ends Friday): ACME kept by
    // Thursday's 200; BOLT still pending.
    assert_eq!(
        resolve_promises(&app, d("2026-11-25"), at(d("2026-11-25"), 18))
            .await
            .unwrap(),
        (0, 0)
    );
    assert_eq!(
        resolve_promises(&app, d("2026-11-27"), at(d("2026-11-27"), 18))
            .await
            .unwrap(),
        (1, 0)
    );
    // Monday after: BOLT's promise is broken; running again changes nothing.
    assert_eq!(
        resolve_promises(&app, d("2026-11-30"), at(d("2026-11-30"), 18))
            .await
            .unwrap(),
        (0, 1)
    );
    assert_eq!(
        resolve_promises(&app, d("2026-11-30"), at(d("2026-11-30"), 19))
            .await
            .unwrap(),
        (0, 0)
    );
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT a.code, p.status FROM promises p JOIN accounts a ON a.id = p.account_id ORDER BY a.code")
        .fetch_all(&app.store.pool)
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            ("ACME-001".into(), "kept".into()),
            ("BOLT-001".into(), "broken".into())
        ]
    );
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM actions WHERE actor_id = 'dunbot' ORDER BY id")
            .fetch_all(&app.store.pool)
            .await
            .unwrap();
    assert_eq!(kinds, ["promise_kept", "promise_broken"]);
    // The broken promise shows in the next digest and makes BOLT a repeat delinquent.
    let mut conn = app.store.pool.acquire().await.unwrap();
    let snap = digest::load(&mut conn, &app.settings, d("2026-11-30"))
        .await
        .unwrap();
    let dg = digest::build(
        &snap,
        &app.settings,
        d("2026-11-30"),
        Some(d("2026-11-27")),
        false,
    );
    assert_eq!(
        dg.promises_broken
            .iter()
            .map(|p| p.code.as_str())
            .collect::<Vec<_>>(),
        ["BOLT-001"]
    );
    let bolt = snap.accounts.iter().find(|a| a.code == "BOLT-001").unwrap();
    let st = digest::assess(bolt, &[], &app.settings, d("2026-11-30"));
    assert!(st.track.is_repeat(), "{st:?}");
}

/// Stages of one account across a month, day by day, with the plan the policy names.
async fn stages_over(
    app: &dunbot::app::App,
    code: &str,
    from: &str,
    days: u64,
) -> Vec<(chrono::NaiveDate, Option<Stage>)> {
    let mut out = Vec::new();
    let mut conn = app.store.pool.acquire().await.unwrap();
    for i in 0..days {
        let day = d(from) + chrono::Days::new(i);
        let snap = digest::load(&mut conn, &app.settings, day).await.unwrap();
        let a = snap.accounts.iter().find(|a| a.code == code).unwrap();
        let mine: Vec<_> = snap
            .promises
            .iter()
            .filter(|p| p.account_id == a.id)
            .collect();
        let st = digest::assess(a, &mine, &app.settings, day);
        out.push((day, st.view.and_then(|v| v.stage)));
    }
    out
}

fn first_day(
    stages: &[(chrono::NaiveDate, Option<Stage>)],
    stage: Stage,
) -> Option<chrono::NaiveDate> {
    stages
        .iter()
        .find(|(_, s)| *s == Some(stage))
        .map(|(d, _)| *d)
}

#[tokio::test]
async fn stages_advance_by_business_days_faster_for_a_repeat_delinquent() {
    let (app, _db) = app().await;
    // Both due Monday 2026-11-02. REPEAT paid an earlier invoice late.
    let customers = "account,name,email,phone,currency,timezone,owner\nFIRST-001,First,a@f.example,,USD,UTC,maria\nREPEAT-001,Repeat,a@r.example,,USD,UTC,maria\n";
    let invoices = "account,invoice,issued,due,amount,currency\n\
                    FIRST-001,F-1,2026-10-01,2026-11-02,100.00,USD\n\
                    REPEAT-001,R-0,2026-08-01,2026-09-01,100.00,USD\n\
                    REPEAT-001,R-1,2026-10-01,2026-11-02,100.00,USD\n";
    let payments = "account,invoice,paid_on,amount,currency,reference\nREPEAT-001,R-0,2026-09-20,100.00,USD,LATE\n";
    seed(&app, customers, invoices, Some(payments)).await;
    let first = stages_over(&app, "FIRST-001", "2026-10-26", 60).await;
    let repeat = stages_over(&app, "REPEAT-001", "2026-10-26", 60).await;
    // Friendly reminder 3 business days before the due date (Wed 28 Oct) for both.
    assert_eq!(
        first_day(&first, Stage::FriendlyReminder),
        Some(d("2026-10-28"))
    );
    assert_eq!(
        first_day(&repeat, Stage::FriendlyReminder),
        Some(d("2026-10-28"))
    );
    // Day-after reminder on the next business day.
    assert_eq!(
        first_day(&first, Stage::DayAfterReminder),
        Some(d("2026-11-03"))
    );
    // First-time: late-fee warning +5 (Mon 9 Nov), inquiry +10 (Mon 16 Nov), management call +25.
    assert_eq!(
        first_day(&first, Stage::LateFeeWarning),
        Some(d("2026-11-09"))
    );
    assert_eq!(first_day(&first, Stage::Inquiry), Some(d("2026-11-16")));
    assert_eq!(
        first_day(&first, Stage::ManagementCall),
        Some(d("2026-12-07"))
    );
    // Repeat: +3 warning (Thu 5 Nov), +5 inquiry (Mon 9 Nov): faster.
    assert_eq!(
        first_day(&repeat, Stage::LateFeeWarning),
        Some(d("2026-11-05"))
    );
    assert_eq!(first_day(&repeat, Stage::Inquiry), Some(d("2026-11-09")));
    assert!(
        first_day(&repeat, Stage::AgencyReferral)
            < first_day(&first, Stage::AgencyReferral).or(Some(d("2099-01-01")))
    );
    // Stages never start on a weekend.
    for s in [&first, &repeat] {
        for w in s.windows(2) {
            if w[0].1 != w[1].1 {
                use chrono::Datelike;
                assert!(
                    w[1].0.weekday().number_from_monday() <= 5,
                    "{:?} starts on a weekend",
                    w[1]
                );
            }
        }
    }
}

#[tokio::test]
async fn a_promise_pauses_chasing_and_a_broken_one_resumes_it_at_once() {
    let (app, _db) = app().await;
    seed(&app, CUSTOMERS, INVOICES, None).await;
    let maria = person("maria", Role::Collector);
    assert!(
        !run_as(
            &app,
            &maria,
            "p",
            "promise BOLT-001 5000 2026-11-25",
            today()
        )
        .await
        .refused
    );
    let mut conn = app.store.pool.acquire().await.unwrap();
    let pause_on = |day: &'static str| {
        let app = &app;
        async move {
            let mut conn = app.store.pool.acquire().await.unwrap();
            let snap = digest::load(&mut conn, &app.settings, d(day))
                .await
                .unwrap();
            let a = snap
                .accounts
                .iter()
                .find(|a| a.code == "BOLT-001")
                .unwrap()
                .clone();
            let mine: Vec<_> = snap
                .promises
                .iter()
                .filter(|p| p.account_id == a.id)
                .collect();
            let st = digest::assess(&a, &mine, &app.settings, d(day));
            (st.paused, st.track.broken_promises)
        }
    };
    assert_eq!(
        pause_on("2026-11-24").await,
        (
            Some(Pause::Promise {
                until: d("2026-11-27")
            }),
            0
        )
    );
    assert_eq!(
        pause_on("2026-11-27").await,
        (
            Some(Pause::Promise {
                until: d("2026-11-27")
            }),
            0
        )
    );
    assert_eq!(
        pause_on("2026-11-30").await,
        (None, 1),
        "broken: chasing resumes, repeat plan"
    );
    // The digest shows BOLT under broken promises once the promise broke (chasing resumes,
    // with its buttons), and only there: not again as ready to escalate.
    let snap = digest::load(&mut conn, &app.settings, d("2026-11-30"))
        .await
        .unwrap();
    let dg = digest::build(&snap, &app.settings, d("2026-11-30"), None, false);
    let bolt = dg
        .promises_broken
        .iter()
        .find(|p| p.code == "BOLT-001")
        .unwrap_or_else(|| panic!("{:?}", dg.promises_broken));
    assert!(bolt.actions.remind && bolt.actions.flag, "{bolt:?}");
    // Its line offers the next steps: promise again what is still owed, call, flag, escalate.
    let rendered = serde_json::to_string(&digest::render(&dg)).unwrap();
    for command in [
        format!("promise BOLT-001 {}", bolt.owed.plain()),
        "call BOLT-001".to_string(),
        "flag BOLT-001".to_string(),
    ] {
        assert!(
            rendered.contains(&format!("\"{command}\"")),
            "{command}: {rendered}"
        );
    }
    assert!(rendered.contains("Escalate: "), "{rendered}");
    assert!(
        !dg.escalations
            .items
            .iter()
            .any(|e| e.line.code == "BOLT-001"),
        "{:?}",
        dg.escalations
    );
    // A dispute on every overdue invoice pauses too.
    assert!(
        !run_as(
            &app,
            &maria,
            "dq",
            "dispute INV-3001 wrong address",
            today()
        )
        .await
        .refused
    );
    let snap = digest::load(&mut conn, &app.settings, today())
        .await
        .unwrap();
    let quiet = snap
        .accounts
        .iter()
        .find(|a| a.code == "QUIET-001")
        .unwrap();
    assert_eq!(
        digest::assess(quiet, &[], &app.settings, today()).paused,
        Some(Pause::Dispute)
    );
}
