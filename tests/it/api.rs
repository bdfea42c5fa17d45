//! The ingest API on the real router, on a random loopback port, with a fresh database each:
//! tokens, the three row endpoints, the reads, idempotency, every refusal (and that it writes
//! nothing), and the OpenAPI document checked by a real validator and against the routes.
use crate::support::{self, at, today};
use dunbot::app::App;
use dunbot::clock::Clock;
use dunbot::domain::roles::Role;
use serde_json::{Value, json};
use std::sync::Arc;

struct Api {
    app: Arc<App>,
    url: String,
    http: reqwest::Client,
    token: String,
    _db: support::TestDb,
}

impl Api {
    async fn start() -> Api {
        let (app, db) = support::app().await;
        let app = Arc::new(app.with_clock(Clock::Fixed(at(today(), 10))));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = dunbot::edges::http::router(app.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let token = dunbot::app::api::create_token(&app, "billing-sync")
            .await
            .unwrap();
        Api {
            app,
            url,
            http: reqwest::Client::new(),
            token,
            _db: db,
        }
    }

    /// POSTs `body` (raw bytes) to `path` with the token and an optional Idempotency-Key.
    async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        key: Option<&str>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, v, headers)
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (s, v, _) = self
            .post_raw(path, body.to_string().into_bytes(), None)
            .await;
        (s, v)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// Every table's rows, as one fingerprint per table.
    async fn tables(&self) -> Vec<(String, String)> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        )
        .fetch_all(&self.app.store.pool)
        .await
        .unwrap();
        let mut out = Vec::new();
        for n in names {
            let sql = format!(
                "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM {n} t"
            );
            let fp: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&self.app.store.pool)
                .await
                .unwrap();
            out.push((n, fp));
        }
        out
    }
}

fn customers() -> Value {
    json!([
        {"account": "ACME-001", "name": "Acme Corp", "email": "ap@acme.example", "phone": "+1-555-0100",
         "currency": "USD", "timezone": "America/New_York", "owner": "maria", "do_not_contact": false},
        {"account": "EURO-001", "name": "Euro GmbH", "email": "ap@euro.example", "currency": "EUR",
         "timezone": "Europe/Berlin", "owner": null},
    ])
}

fn invoices() -> Value {
    json!([
        {"account": "ACME-001", "invoice": "INV-1001", "issued": "2026-10-14", "due": "2026-11-13", "amount": "1250.00", "currency": "USD"},
        {"account": "ACME-001", "invoice": "INV-1002", "issued": "2026-10-26", "due": "2026-11-26", "amount": "400.00", "currency": "USD"},
        {"account": "EURO-001", "invoice": "INV-4001", "issued": "2026-10-21", "due": "2026-11-21", "amount": "2000.00", "currency": "EUR"},
    ])
}

async fn loaded() -> Api {
    let api = Api::start().await;
    assert_eq!(
        api.post("/api/v1/customers", &customers()).await,
        (200, json!({"rows": 2, "inserted": 2, "unchanged": 0}))
    );
    assert_eq!(
        api.post("/api/v1/invoices", &invoices()).await,
        (200, json!({"rows": 3, "inserted": 3, "unchanged": 0}))
    );
    api
}

#[tokio::test]
async fn api_rows_land_in_the_ledger_logged_as_the_token_and_payments_keep_promises() {
    let api = loaded().await;
    assert_eq!(support::count(&api.app, "accounts").await, 2);
    assert_eq!(support::count(&api.app, "invoices").await, 3);

    // A promise logged in chat, kept by a payment sent through the API.
    let maria = support::person("maria", Role::Collector);
    let o = support::run_as(
        &api.app,
        &maria,
        "p1",
        "promise ACME-001 1250 2026-11-27",
        today(),
    )
    .await;
    assert!(!o.refused, "{}", o.reply.text);
    let pay = json!([{"account": "ACME-001", "invoice": "INV-1001", "paid_on": "2026-11-23", "amount": "1250.00",
                      "currency": "USD", "reference": "PAY-77"}]);
    assert_eq!(
        api.post("/api/v1/payments", &pay).await,
        (200, json!({"rows": 1, "inserted": 1, "unchanged": 0}))
    );
    // Natural keys: the same rows again change nothing.
    assert_eq!(
        api.post("/api/v1/payments", &pay).await,
        (200, json!({"rows": 1, "inserted": 0, "unchanged": 1}))
    );
    assert_eq!(
        api.post("/api/v1/invoices", &invoices()).await.1["unchanged"],
        3
    );

    let (status, card) = api.get("/api/v1/accounts/acme-001").await;
    assert_eq!(status, 200, "{card}");
    assert_eq!(card["account"], "ACME-001");
    assert_eq!(
        card["balance"],
        json!({"minor": 40000, "amount": "400.00", "currency": "USD"})
    );
    assert_eq!(card["invoices"].as_array().unwrap().len(), 1, "{card}");
    assert_eq!(card["invoices"][0]["invoice"], "INV-1002");
    assert_eq!(card["promises"][0]["status"], "kept", "{card}");
    assert_eq!(
        card["buckets"][0],
        json!({"bucket": "current", "balance": {"minor": 40000, "amount": "400.00", "currency": "USD"}})
    );
    assert_eq!(card["contact"]["email"], "ap@acme.example");
    assert!(
        card["last_actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "promise"),
        "{card}"
    );
    let (status, missing) = api.get("/api/v1/accounts/NOPE-1").await;
    assert_eq!(status, 404, "{missing}");

    // Each batch is in the log, by the token's name, on platform api.
    let logged: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT kind, actor_platform, actor_name FROM actions WHERE actor_platform = 'api' ORDER BY id",
    )
    .fetch_all(&api.app.store.pool)
    .await
    .unwrap();
    let kinds: Vec<&str> = logged.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "api_customers",
            "api_invoices",
            "api_payments",
            "api_payments",
            "api_invoices"
        ]
    );
    assert!(
        logged
            .iter()
            .all(|(_, p, n)| p == "api" && n == "billing-sync")
    );
}

#[tokio::test]
async fn api_idempotency_key_answers_once_and_refuses_another_body() {
    let api = Api::start().await;
    let body = customers().to_string().into_bytes();
    let (s1, a1, h1) = api
        .post_raw("/api/v1/customers", body.clone(), Some("batch-1"))
        .await;
    assert_eq!(s1, 200, "{a1}");
    assert!(h1.get("idempotent-replayed").is_none());
    let before = api.tables().await;
    let (s2, a2, h2) = api
        .post_raw("/api/v1/customers", body.clone(), Some("batch-1"))
        .await;
    assert_eq!((s2, &a2), (200, &a1), "the first answer again");
    assert_eq!(h2.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(
        api.tables().await,
        before,
        "a replay writes nothing, not even a log row"
    );

    let mut other = customers();
    other[0]["name"] = json!("Acme Corporation");
    let (s3, p3, h3) = api
        .post_raw(
            "/api/v1/customers",
            other.to_string().into_bytes(),
            Some("batch-1"),
        )
        .await;
    assert_eq!(s3, 409, "{p3}");
    assert_eq!(h3.get("content-type").unwrap(), "application/problem+json");
    assert_eq!(p3["type"], "urn:dunbot:problem:idempotency-key-reused");
    assert_eq!(api.tables().await, before);
    let name: String = sqlx::query_scalar("SELECT name FROM accounts WHERE code = 'ACME-001'")
        .fetch_one(&api.app.store.pool)
        .await
        .unwrap();
    assert_eq!(name, "Acme Corp");

    // Another key is another batch.
    let (s4, a4, _) = api
        .post_raw(
            "/api/v1/customers",
            other.to_string().into_bytes(),
            Some("batch-2"),
        )
        .await;
    assert_eq!((s4, &a4["inserted"]), (200, &json!(1)), "{a4}");
}

#[tokio::test]
async fn api_every_refusal_writes_nothing() {
    let api = loaded().await;
    let before = api.tables().await;
    let problem = |s: u16, v: &Value, h: &reqwest::header::HeaderMap, want: u16| {
        assert_eq!(s, want, "{v}");
        assert_eq!(
            h.get("content-type").unwrap(),
            "application/problem+json",
            "{v}"
        );
        assert_eq!(v["status"], want);
        for k in ["type", "title", "detail"] {
            assert!(v[k].is_string(), "{k} in {v}");
        }
    };
    let good_invoice = json!({"account": "ACME-001", "invoice": "INV-9", "issued": "2026-11-01", "due": "2026-12-01",
                              "amount": "10.00", "currency": "USD"});

    // 401: no token, a wrong one, a revoked one.
    for auth in [None, Some("Bearer dunbot_00"), Some("Basic abc")] {
        let mut req = api
            .http
            .post(format!("{}/api/v1/invoices", api.url))
            .body(json!([good_invoice]).to_string());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        let (s, h) = (r.status().as_u16(), r.headers().clone());
        problem(s, &r.json().await.unwrap(), &h, 401);
        assert!(h.get("www-authenticate").is_some());
    }
    let revoked = dunbot::app::api::create_token(&api.app, "old-sync")
        .await
        .unwrap();
    dunbot::app::api::revoke_token(&api.app, "old-sync")
        .await
        .unwrap();
    let before = {
        // Creating and revoking a token is a change of its own; the refusals start from here.
        let _ = before;
        api.tables().await
    };
    let r = api
        .http
        .post(format!("{}/api/v1/invoices", api.url))
        .bearer_auth(&revoked)
        .body(json!([good_invoice]).to_string())
        .send()
        .await
        .unwrap();
    let (s, h) = (r.status().as_u16(), r.headers().clone());
    problem(s, &r.json().await.unwrap(), &h, 401);
    let r = api
        .http
        .get(format!("{}/api/v1/accounts/ACME-001", api.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Refused before the body is read: a caller without a token announcing 10 MB and
    // sending a few bytes gets its 401 at once, without dunbot waiting for the rest.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = api.url.trim_start_matches("http://").to_string();
        let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        tcp.write_all(
            format!(
                "POST /api/v1/invoices HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n[{{"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut head = vec![0u8; 64];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read(&mut head))
            .await
            .expect("answered without the body")
            .unwrap();
        let status = String::from_utf8_lossy(&head[..n]).to_string();
        assert!(status.starts_with("HTTP/1.1 401"), "{status}");
    }

    // 400: not JSON, not an array, a wrong type, an unknown field, a bad key.
    let (s, v, h) = api
        .post_raw("/api/v1/invoices", b"[{\"account\": ".to_vec(), None)
        .await;
    problem(s, &v, &h, 400);
    let (s, v, h) = api
        .post_raw(
            "/api/v1/invoices",
            good_invoice.to_string().into_bytes(),
            None,
        )
        .await;
    problem(s, &v, &h, 400);
    let mut typed = good_invoice.clone();
    typed["amount"] = json!(10.0);
    let mut misspelt = good_invoice.clone();
    misspelt["acount"] = json!("ACME-001");
    let (s, v, h) = api
        .post_raw(
            "/api/v1/invoices",
            json!([good_invoice, typed, misspelt])
                .to_string()
                .into_bytes(),
            None,
        )
        .await;
    problem(s, &v, &h, 400);
    assert_eq!(v["errors"][0]["index"], 1, "{v}");
    assert_eq!(v["errors"][0]["field"], "amount");
    assert!(
        v["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("\"1250.00\""),
        "{v}"
    );
    assert_eq!(
        (&v["errors"][1]["index"], &v["errors"][1]["field"]),
        (&json!(2), &json!("acount"))
    );
    let (s, v, h) = api
        .post_raw(
            "/api/v1/invoices",
            json!([good_invoice]).to_string().into_bytes(),
            Some("bad key"),
        )
        .await;
    problem(s, &v, &h, 400);

    // 413: more than 10,000 rows, and a body over the size limit.
    let many: Vec<Value> = (0..10_001)
        .map(|i| {
            let mut r = good_invoice.clone();
            r["invoice"] = json!(format!("INV-X{i}"));
            r
        })
        .collect();
    let (s, v, h) = api
        .post_raw(
            "/api/v1/invoices",
            json!(many).to_string().into_bytes(),
            None,
        )
        .await;
    problem(s, &v, &h, 413);
    let huge = format!(
        "[{{\"account\": \"{}\"}}]",
        "A".repeat(dunbot::edges::api::MAX_BODY_BYTES)
    );
    let (s, v, h) = api
        .post_raw("/api/v1/invoices", huge.into_bytes(), None)
        .await;
    problem(s, &v, &h, 413);

    // 422: every row that breaks the import's rules, with index, field and reason.
    let mut bad_date = good_invoice.clone();
    bad_date["issued"] = json!("2026-13-01");
    let mut bad_amount = good_invoice.clone();
    bad_amount["invoice"] = json!("INV-10");
    bad_amount["amount"] = json!("ten");
    let mut repeated = good_invoice.clone();
    repeated["amount"] = json!("11.00");
    let (s, v, h) = api
        .post_raw(
            "/api/v1/invoices",
            json!([good_invoice, bad_date, bad_amount])
                .to_string()
                .into_bytes(),
            None,
        )
        .await;
    problem(s, &v, &h, 422);
    assert_eq!(v["type"], "urn:dunbot:problem:invalid-rows");
    let errs: Vec<(i64, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_i64().unwrap(),
                e["field"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        errs,
        [(1, "issued".to_string()), (2, "amount".to_string())],
        "{v}"
    );
    assert_eq!(
        v["errors"][0]["reason"],
        "issued \"2026-13-01\" is not a date like 2026-12-05"
    );
    let (s, v, h) = api
        .post_raw(
            "/api/v1/invoices",
            json!([good_invoice, repeated]).to_string().into_bytes(),
            None,
        )
        .await;
    problem(s, &v, &h, 422);
    assert_eq!(
        v["errors"][0]["reason"], "invoice INV-9 already appears at index 0",
        "{v}"
    );
    // The ledger's checks too: an unknown account, another currency, a changed known invoice.
    let mut unknown = good_invoice.clone();
    unknown["account"] = json!("NOPE-001");
    unknown["invoice"] = json!("INV-11");
    let mut euro = good_invoice.clone();
    euro["invoice"] = json!("INV-12");
    euro["currency"] = json!("EUR");
    let changed = json!({"account": "ACME-001", "invoice": "INV-1001", "issued": "2026-10-14", "due": "2026-11-13",
                         "amount": "999.00", "currency": "USD"});
    let (s, v, h) = api
        .post_raw(
            "/api/v1/invoices",
            json!([good_invoice, unknown, euro, changed])
                .to_string()
                .into_bytes(),
            None,
        )
        .await;
    problem(s, &v, &h, 422);
    let errs: Vec<(i64, &str)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["index"].as_i64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errs,
        [(1, "account"), (2, "currency"), (3, "invoice")],
        "{v}"
    );
    let bad_pay = json!([{"account": "ACME-001", "invoice": "INV-404", "paid_on": "2026-11-20", "amount": "5.00",
                          "currency": "USD", "reference": "R1"}]);
    let (s, v, h) = api
        .post_raw("/api/v1/payments", bad_pay.to_string().into_bytes(), None)
        .await;
    problem(s, &v, &h, 422);
    assert_eq!(v["errors"][0]["field"], "invoice");
    let (s, v, h) = api
        .post_raw(
            "/api/v1/customers",
            json!([{"account": "ACME-001", "name": "Acme", "currency": "EUR",
        "timezone": "UTC"}])
            .to_string()
            .into_bytes(),
            None,
        )
        .await;
    problem(s, &v, &h, 422);
    assert_eq!(
        v["errors"][0]["reason"],
        "account ACME-001 exists in USD, not EUR"
    );

    assert_eq!(api.tables().await, before, "no refusal wrote anything");
}

#[tokio::test]
async fn api_tokens_are_hashed_listed_and_revoked() {
    let api = Api::start().await;
    let hash: Vec<u8> =
        sqlx::query_scalar("SELECT token_hash FROM api_tokens WHERE name = 'billing-sync'")
            .fetch_one(&api.app.store.pool)
            .await
            .unwrap();
    use sha2::Digest;
    assert_eq!(hash, sha2::Sha256::digest(api.token.as_bytes()).to_vec());
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_tokens t WHERE t::text LIKE '%' || $1 || '%'")
            .bind(&api.token[7..])
            .fetch_one(&api.app.store.pool)
            .await
            .unwrap();
    assert_eq!(stored, 0, "the token itself is not stored");
    assert!(api.token.starts_with("dunbot_") && api.token.len() == 7 + 64);

    let again = dunbot::app::api::create_token(&api.app, "billing-sync")
        .await
        .unwrap_err();
    assert!(
        again
            .to_string()
            .contains("dunbot token revoke billing-sync"),
        "{again}"
    );
    assert!(
        dunbot::app::api::create_token(&api.app, "two words")
            .await
            .is_err()
    );
    assert_eq!(api.get("/api/v1/actions").await.0, 200);

    dunbot::app::api::revoke_token(&api.app, "billing-sync")
        .await
        .unwrap();
    assert_eq!(api.get("/api/v1/actions").await.0, 401);
    let unknown = dunbot::app::api::revoke_token(&api.app, "billing-sync")
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("dunbot token list"),
        "{unknown}"
    );
    let list = dunbot::app::api::list_tokens(&api.app).await.unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].revoked_at.is_some());
    // The name is free again once revoked, and the new token works.
    let fresh = dunbot::app::api::create_token(&api.app, "billing-sync")
        .await
        .unwrap();
    assert_ne!(fresh, api.token);
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM actions WHERE subject = 'token:billing-sync' ORDER BY id",
    )
    .fetch_all(&api.app.store.pool)
    .await
    .unwrap();
    assert_eq!(kinds, ["token_create", "token_revoke", "token_create"]);
}

#[tokio::test]
async fn api_action_log_is_paged_with_next_links() {
    let api = loaded().await;
    let maria = support::person("maria", Role::Collector);
    for i in 0..3 {
        support::run_as(
            &api.app,
            &maria,
            &format!("f{i}"),
            "flag EURO-001 call them",
            today(),
        )
        .await;
    }
    let all: Vec<i64> = sqlx::query_scalar("SELECT id FROM actions ORDER BY id")
        .fetch_all(&api.app.store.pool)
        .await
        .unwrap();
    assert!(all.len() >= 5, "{all:?}");
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/actions?limit=2".to_string());
    let mut pages = 0;
    while let Some(path) = next {
        let (status, page) = api.get(&path).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["actions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_i64().unwrap()),
        );
        next = page["next"].as_str().map(str::to_string);
        pages += 1;
        assert!(pages < 100);
    }
    assert_eq!(seen, all);
    let (_, page) = api.get("/api/v1/actions?since=2026-11-23&limit=1000").await;
    assert!(page["next"].is_null());
    assert!(
        page["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["actor"]["name"] == "billing-sync")
    );
    let (_, page) = api.get("/api/v1/actions?since=2099-01-01").await;
    assert_eq!(page["actions"], json!([]));
    for bad in ["since=yesterday", "limit=0", "after_id=x", "page=2"] {
        let (status, p) = api.get(&format!("/api/v1/actions?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {p}");
    }
}

/// The schema's required fields, filled from each property's example.
fn row_from(doc: &Value, schema_ref: &str) -> Value {
    let name = schema_ref.rsplit('/').next().unwrap();
    let schema = &doc["components"]["schemas"][name];
    let mut row = serde_json::Map::new();
    for f in schema["required"].as_array().unwrap() {
        let f = f.as_str().unwrap();
        let example = schema["properties"][f]["example"].clone();
        assert!(!example.is_null(), "{name}.{f} has no example");
        row.insert(f.into(), example);
    }
    Value::Object(row)
}

#[tokio::test]
async fn openapi_document_is_valid_and_matches_the_routes() {
    let api = Api::start().await;
    // No token needed for the document.
    let r = api
        .http
        .get(format!("{}/api/v1/openapi.json", api.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let path = support::tempdir().join("openapi.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = std::process::Command::new(crate::python::python())
        .args(["-c", "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))\nprint('valid')"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The validator is real: a broken document fails it.
    let mut broken = doc.clone();
    broken["paths"]["/api/v1/actions"]["get"]["responses"] = json!("none");
    std::fs::write(&path, broken.to_string()).unwrap();
    let out = std::process::Command::new(crate::python::python())
        .args(["-c", "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());

    // Every documented path and method is routed; each POST takes a row made from its schema's
    // required fields (in the order the ledger needs them), and refuses a field it lacks.
    let mut posted = Vec::new();
    for kind in ["customers", "invoices", "payments"] {
        let p = format!("/api/v1/{kind}");
        let op = &doc["paths"][&p]["post"];
        let schema_ref =
            op["requestBody"]["content"]["application/json"]["schema"]["items"]["$ref"]
                .as_str()
                .unwrap();
        let row = row_from(&doc, schema_ref);
        let (status, answer) = api.post(&p, &json!([row])).await;
        assert_eq!(
            (status, &answer["inserted"]),
            (200, &json!(1)),
            "{kind}: {row} -> {answer}"
        );
        let mut extra = row.clone();
        extra["not_in_schema"] = json!("x");
        assert_eq!(api.post(&p, &json!([extra])).await.0, 400);
        // Every optional property the schema names is one the route takes.
        let name = schema_ref.rsplit('/').next().unwrap();
        let mut full = row.clone();
        for (f, s) in doc["components"]["schemas"][name]["properties"]
            .as_object()
            .unwrap()
        {
            full[f] = s["example"].clone();
        }
        assert_eq!(api.post(&p, &json!([full])).await.0, 200, "{kind}: {full}");
        posted.push(p);
    }
    // An invoice change made from its schema's examples voids the invoice posted above.
    let p = "/api/v1/invoice-changes".to_string();
    let mut change = json!({});
    for (f, s) in doc["components"]["schemas"]["InvoiceChange"]["properties"]
        .as_object()
        .unwrap()
    {
        change[f] = s["example"].clone();
    }
    let (status, answer) = api.post(&p, &json!([change])).await;
    assert_eq!(
        (status, &answer["changed"]),
        (200, &json!(1)),
        "{change} -> {answer}"
    );
    change["not_in_schema"] = json!("x");
    assert_eq!(api.post(&p, &json!([change])).await.0, 400);
    posted.push(p);
    let mut documented = Vec::new();
    for (p, ops) in doc["paths"].as_object().unwrap() {
        for (method, _) in ops.as_object().unwrap() {
            documented.push(format!("{method} {p}"));
            if method == "get" {
                let (status, body) = api.get(&p.replace("{code}", "ACME-001")).await;
                assert_eq!(status, 200, "{p}: {body}");
            } else {
                assert!(posted.contains(p), "{method} {p}");
            }
        }
    }
    documented.sort();
    assert_eq!(
        documented,
        [
            "get /api/v1/accounts/{code}",
            "get /api/v1/actions",
            "get /api/v1/openapi.json",
            "post /api/v1/customers",
            "post /api/v1/invoice-changes",
            "post /api/v1/invoices",
            "post /api/v1/payments",
        ]
    );
}

#[tokio::test]
async fn api_invoice_changes_apply_all_or_nothing_tell_the_owner_and_apply_once() {
    let api = Api::start().await;
    assert_eq!(api.post("/api/v1/customers", &customers()).await.0, 200);
    assert_eq!(api.post("/api/v1/invoices", &invoices()).await.0, 200);
    // INV-4001 is disputed: a change to it is applied and its owner's team is told.
    let priya = support::person("priya", Role::Collector);
    let out = support::run_as(
        &api.app,
        &priya,
        "d1",
        "dispute INV-4001 wrong rate",
        today(),
    )
    .await;
    assert!(!out.refused, "{}", out.reply.text);

    // A credit above the open amount and an unknown invoice: 422 listing both, nothing written.
    let before = api.tables().await;
    let bad = json!([
        {"invoice": "INV-1001", "change": "void", "reason": "duplicate"},
        {"invoice": "INV-1002", "change": "credit_note", "amount": "500.00", "reference": "CN-9"},
        {"invoice": "INV-9999", "change": "write_off"},
    ]);
    let (status, problem) = api.post("/api/v1/invoice-changes", &bad).await;
    assert_eq!(status, 422, "{problem}");
    let errors = problem["errors"].as_array().unwrap();
    assert_eq!(
        errors
            .iter()
            .map(|e| e["index"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2],
        "{problem}"
    );
    assert_eq!(api.tables().await, before, "a refused batch writes nothing");
    // A number is not an amount.
    let (status, _) = api
        .post(
            "/api/v1/invoice-changes",
            &json!([{"invoice": "INV-1002", "change": "credit_note", "amount": 100}]),
        )
        .await;
    assert_eq!(status, 400);

    let good = json!([
        {"invoice": "INV-1001", "change": "void", "reason": "duplicate"},
        {"invoice": "INV-1002", "change": "credit_note", "amount": "100.00", "reference": "CN-1"},
        {"invoice": "INV-4001", "change": "write_off", "reason": "settled out of court"},
    ]);
    let (status, answer) = api.post("/api/v1/invoice-changes", &good).await;
    assert_eq!((status, &answer["changed"]), (200, &json!(3)), "{answer}");
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT number, status, amount_minor, paid_minor FROM invoices ORDER BY number",
    )
    .fetch_all(&api.app.store.pool)
    .await
    .unwrap();
    assert_eq!(rows[0].1, "void");
    assert_eq!(rows[2].0, "INV-4001");
    assert_eq!(rows[2].1, "written_off", "{rows:?}");
    // The same body again changes nothing twice (the credit note is not taken off again).
    let (status, again) = api.post("/api/v1/invoice-changes", &good).await;
    assert_eq!((status, &again["changed"]), (200, &json!(0)), "{again}");
    let after: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT number, status, amount_minor, paid_minor FROM invoices ORDER BY number",
    )
    .fetch_all(&api.app.store.pool)
    .await
    .unwrap();
    assert_eq!(after, rows);
    // Each change is in the action log as the token; the disputed invoice's team was told.
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM actions WHERE actor_platform = 'api' AND actor_name = 'billing-sync' AND idempotency_key LIKE 'api:billing-sync:changes:%'",
    )
    .fetch_one(&api.app.store.pool)
    .await
    .unwrap();
    assert_eq!(logged, 3);
    let told: Vec<Value> = sqlx::query_scalar("SELECT payload FROM outbox WHERE kind = 'chat'")
        .fetch_all(&api.app.store.pool)
        .await
        .unwrap();
    assert!(
        told.iter().any(|p| p.to_string().contains("INV-4001")),
        "{told:?}"
    );
}

#[tokio::test]
async fn a_reminder_queued_before_an_api_payment_is_not_sent() {
    use crate::email::{clocked, due_now, row_for};
    use crate::smtp_server::SmtpServer;
    let server = SmtpServer::start();
    let api = Api::start().await;
    assert_eq!(api.post("/api/v1/customers", &customers()).await.0, 200);
    assert_eq!(api.post("/api/v1/invoices", &invoices()).await.0, 200);
    // Queued at 10:00 UTC, 05:00 in New York: it waits for the send window.
    let maria = support::person("maria", Role::Collector);
    let out = support::run_as(&api.app, &maria, "rem-api", "remind ACME-001", today()).await;
    assert!(out.reply.text.contains("will go out"), "{}", out.reply.text);
    let paid = json!([
        {"account": "ACME-001", "invoice": "INV-1001", "paid_on": "2026-11-23", "amount": "1250.00", "currency": "USD", "reference": "W-1"},
        {"account": "ACME-001", "invoice": "INV-1002", "paid_on": "2026-11-23", "amount": "400.00", "currency": "USD", "reference": "W-2"},
    ]);
    assert_eq!(api.post("/api/v1/payments", &paid).await.0, 200);
    // The window opens: nothing leaves, and the row says why.
    let ds = clocked(&api.app, &server.url(), at(today(), 15));
    due_now(&api.app).await;
    assert_eq!(
        dunbot::notify::drain_once(&api.app.store, &ds, 10)
            .await
            .unwrap(),
        0
    );
    assert!(
        server.messages().is_empty(),
        "no email to a customer who paid"
    );
    let row = row_for(&api.app, "reminder:rem-api").await;
    assert_eq!(row.status, "dropped");
    assert_eq!(
        row.last_error.as_deref(),
        Some("not sent: paid since queued")
    );
}

#[tokio::test]
async fn api_customers_name_the_contact_person_reminders_greet() {
    let api = Api::start().await;
    let mut rows = customers();
    rows[0]["contact_name"] = json!("Jane Smith");
    assert_eq!(api.post("/api/v1/customers", &rows).await.0, 200);
    let (_, card) = api.get("/api/v1/accounts/ACME-001").await;
    assert_eq!(card["contact"]["name"], "Jane Smith", "{card}");
    // Absent, the contact has no name (not the customer's): reminders greet the customer.
    let (_, card) = api.get("/api/v1/accounts/EURO-001").await;
    assert_eq!(card["contact"]["name"], Value::Null, "{card}");
    // A new contact person replaces the old one; the same rows again change nothing.
    rows[0]["contact_name"] = json!("Omar Haddad");
    assert_eq!(api.post("/api/v1/customers", &rows).await.0, 200);
    assert_eq!(api.post("/api/v1/customers", &rows).await.0, 200);
    let (_, card) = api.get("/api/v1/accounts/ACME-001").await;
    assert_eq!(card["contact"]["name"], "Omar Haddad", "{card}");
    let primaries: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM contacts c JOIN accounts a ON a.id = c.account_id
          WHERE a.code = 'ACME-001' AND c.is_primary",
    )
    .fetch_one(&api.app.store.pool)
    .await
    .unwrap();
    assert_eq!(primaries, 1);
}

/// The API card carries what the chat card shows beside the ledger: the payment plan, the last
/// call and its agreed call-back, and the customer's answers about receipt.
#[tokio::test]
async fn api_card_has_the_plan_the_last_call_and_receipt_answers() {
    let api = loaded().await;
    let (_, card) = api.get("/api/v1/accounts/ACME-001").await;
    assert_eq!(card["plan"], Value::Null, "{card}");
    assert_eq!(card["last_call"], Value::Null, "{card}");
    assert_eq!(card["receipt_answers"], json!([]), "{card}");
    let tom = support::person("tom", dunbot::domain::roles::Role::Manager);
    for (id, text) in [
        ("p1", "plan ACME-001 1650 3 monthly 2026-12-01"),
        ("c1", "call ACME-001 callback 2026-11-27 CFO back friday"),
        ("r1", "confirm INV-1002 missing never arrived"),
    ] {
        let out = support::run_as(&api.app, &tom, id, text, today()).await;
        assert!(!out.refused, "{text}: {}", out.reply.text);
    }
    let (_, card) = api.get("/api/v1/accounts/ACME-001").await;
    assert_eq!(card["plan"]["installments"], 3, "{card}");
    assert_eq!(card["plan"]["total"]["minor"], 165000, "{card}");
    assert_eq!(card["plan"]["cadence"], "monthly", "{card}");
    assert_eq!(card["last_call"]["by"], "tom", "{card}");
    assert!(
        card["last_call"]["note"].as_str().unwrap().contains("CFO"),
        "{card}"
    );
    assert_eq!(card["call_back"]["on"], "2026-11-27", "{card}");
    assert_eq!(card["receipt_answers"][0]["invoice"], "INV-1002", "{card}");
    assert_eq!(card["receipt_answers"][0]["answer"], "missing", "{card}");
}
