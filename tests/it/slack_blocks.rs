//! Every Block Kit message dunbot builds for a digest of 1, 50 and 5,000 accounts passes
//! Slack's own checks: `slack_sdk`'s `Block.parse(b).validate_json()` (from PyPI), run on
//! each block by `tests/slack/validate_blocks.py`, plus the 50-blocks-a-message limit.
//! The digests here are uncapped (every account listed, long names, offers and flags for a
//! tenth of them) so the splitting into thread replies and the final count are exercised.
use chrono::{TimeZone, Utc};
use dunbot::digest::{
    AccountLine, BucketGroup, CurrencyTotals, Digest, Escalation, LineActions, Listed, render,
};
use dunbot::domain::aging::Bucket;
use dunbot::domain::money::{Currency, Money};
use dunbot::domain::policy::Stage;
use dunbot::edges::slack::blocks;
use dunbot::store::snapshot::{FlagLine, OfferLine};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::parse("USD").unwrap())
}

fn line(i: usize) -> AccountLine {
    // Every 7th name is very long, to hit the per-text limits.
    let name = if i.is_multiple_of(7) {
        format!(
            "Customer {i} {}",
            "Very Long Holding Company Name ".repeat(20)
        )
    } else {
        format!("Customer {i}")
    };
    AccountLine {
        code: format!("ACC-{i:05}"),
        name,
        owner: Some("maria".into()),
        balance: usd(100_000 + i as i64),
        amount: usd(50_000 + i as i64),
        days_past_due: (i % 120) as i64,
        stage: Some(Stage::FirmNotice),
        paused: None,
        priority: i as u32,
        do_not_contact: false,
        next_due: None,
        actions: LineActions {
            remind: true,
            promise: true,
            flag: true,
        },
    }
}

fn digest_of(n: usize) -> Digest {
    let lines: Vec<AccountLine> = (0..n).map(line).collect();
    let buckets = [
        Bucket::Days1To30,
        Bucket::Days31To60,
        Bucket::Days61To90,
        Bucket::Over90,
    ];
    let overdue = buckets
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let accounts = Listed {
                items: lines.iter().skip(k).step_by(4).cloned().collect(),
                more: 0,
            };
            BucketGroup {
                bucket: *b,
                totals: vec![usd(1_000_000)],
                count: accounts.total(),
                ranked: accounts.clone(),
                accounts,
            }
        })
        .collect();
    let tenth = n.div_ceil(10);
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    Digest {
        as_of: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        late: n > 1000,
        undelivered: 0,
        callbacks: vec![],
        freshness: None,
        confirm: Listed {
            items: vec![],
            more: 0,
        },
        late_fees: Listed::default(),
        totals: vec![
            CurrencyTotals {
                currency: Currency::parse("USD").unwrap(),
                buckets: [1, 2, 3, 4, 5],
                total: 15,
                accounts: n,
            },
            CurrencyTotals {
                currency: Currency::parse("EUR").unwrap(),
                buckets: [0, 0, 7, 0, 9],
                total: 16,
                accounts: 1,
            },
        ],
        due_soon: Listed {
            items: lines.iter().take(tenth).cloned().collect(),
            more: n,
        },
        overdue,
        promises_due: vec![],
        promises_broken: vec![],
        plans_broken: vec![],
        escalations: Listed {
            items: lines
                .iter()
                .take(tenth)
                .map(|l| Escalation {
                    line: l.clone(),
                    stage: Stage::AgencyReferral,
                })
                .collect(),
            more: 3,
        },
        offers: (0..tenth)
            .map(|i| OfferLine {
                id: i as i64 + 1,
                code: format!("ACC-{i:05}"),
                account_name: format!("Customer {i}"),
                agency: "Northwind Recovery".into(),
                amount_minor: 40_000,
                currency: "USD".into(),
                offered_by: "sam".into(),
                offered_at: at,
                balance_minor: 100_000,
                approved_by: None,
                measured_balance_minor: None,
                waiting: None,
            })
            .collect(),
        flags: (0..tenth)
            .map(|i| FlagLine {
                id: i as i64 + 1,
                code: format!("ACC-{i:05}"),
                account_name: format!("Customer {i}"),
                reason: "x".repeat(if i == 0 { 4000 } else { 20 }),
                flagged_by: "tom".into(),
                flagged_at: at,
            })
            .collect(),
    }
}

/// Runs the slack_sdk checker on `messages` and `views`; panics with its findings.
pub fn validate_with_slack_sdk(messages: &[Vec<Value>], views: &[Value]) -> String {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/slack/validate_blocks.py"
    );
    let mut child = Command::new(crate::python::python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with slack_sdk (pip install slack_sdk)");
    let input = json!({"messages": messages, "views": views}).to_string();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "slack_sdk rejected dunbot's Block Kit:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn digests_of_1_50_and_5000_accounts_pass_slack_sdk() {
    let mut messages = Vec::new();
    for n in [1usize, 50, 5000] {
        let msg = render(&digest_of(n));
        let posts = blocks::render(&msg);
        assert!(!posts.is_empty());
        assert!(
            posts.len() <= blocks::MAX_POSTS,
            "{n}: {} posts",
            posts.len()
        );
        if n == 1 {
            assert_eq!(posts.len(), 1, "one account fits one message");
            assert_eq!(posts[0].blocks[0]["type"], "header");
        }
        if n == 5000 {
            let last = posts.last().unwrap().blocks.last().unwrap();
            let note = last["elements"][0]["text"].as_str().unwrap();
            assert!(note.contains("more entries not shown"), "{note}");
        }
        // Every post is real Block Kit that slack-morphism's model accepts as well.
        for p in &posts {
            let typed: Vec<slack_morphism::prelude::SlackBlock> =
                serde_json::from_value(Value::Array(p.blocks.clone())).unwrap();
            assert_eq!(typed.len(), p.blocks.len());
        }
        messages.extend(posts.into_iter().map(|p| p.blocks));
    }
    // A resolved message and the promise modal are checked too.
    let resolved = blocks::resolve(&messages[1], "act:9:0", "Approved by Maria at 10:42");
    messages.push(resolved);
    let form = blocks::form_of("promise ACC-00001").unwrap();
    let view = blocks::modal(&form, r#"{"command":"promise ACC-00001"}"#);
    let summary = validate_with_slack_sdk(&messages, &[view]);
    assert!(summary.starts_with("ok:"), "{summary}");
}

#[test]
fn the_checker_can_fail() {
    // A section over 3,000 characters, and a message of 51 blocks: both must be refused.
    let too_long = json!({"type": "section", "text": {"type": "mrkdwn", "text": "x".repeat(3001)}});
    let divider = json!({"type": "divider"});
    for messages in [vec![vec![too_long]], vec![vec![divider; 51]]] {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/slack/validate_blocks.py"
        );
        let mut child = Command::new(crate::python::python())
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(json!({"messages": messages}).to_string().as_bytes())
            .unwrap();
        assert!(!child.wait().unwrap().success());
    }
}
