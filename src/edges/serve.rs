//! `dunbot serve`: the scheduler and the outbox worker, until Ctrl-C or SIGTERM.
use crate::app::App;
use crate::notify::{self, Deliverers};
use crate::store::schedule;
use anyhow::Result;
use std::sync::Arc;
use std::time::Duration;

/// The deliverers this process can run, from its configuration.
pub fn deliverers(app: &App) -> Result<Deliverers> {
    let mut ds = Deliverers::new(8)
        .add(
            "chat",
            Arc::new(crate::edges::console::deliver::ConsoleChannel {
                store: Some(app.store.clone()),
            }),
        )
        .add(
            "webhook",
            Arc::new(notify::webhook::WebhookDeliverer::new(
                app.store.clone(),
                Duration::from_secs(10),
            )?),
        );
    ds = ds.add(
        crate::store::case_threads::KIND,
        Arc::new(crate::app::case_threads::CaseThreadDeliverer::new(
            app,
            Arc::new(crate::edges::console::deliver::ConsoleThreads),
        )),
    );
    if let Some(d) = crate::edges::discord::deliverer_from_env(app) {
        ds = ds.add("chat", d.clone()).add("chat_edit", d);
    }
    if let Some(d) = crate::edges::discord::case_threads_from_env(app) {
        ds = ds.add(crate::store::case_threads::KIND, d);
    }
    ds = crate::edges::slack::add_deliverer(ds, app);
    if let Some(mail) = notify::email::MailSettings::from_env()? {
        let s = &app.settings;
        ds = ds.add(
            "email",
            Arc::new(
                notify::email::EmailDeliverer::new(
                    mail,
                    s.calendar.clone(),
                    s.send_window,
                    Some(app.store.clone()),
                )?
                .with_rules(s),
            ),
        );
    }
    if let Some(twilio) = notify::sms::TwilioSettings::from_env()? {
        ds = ds.add(
            "sms",
            Arc::new(notify::sms::SmsDeliverer::new(
                twilio,
                &app.settings,
                app.store.clone(),
            )?),
        );
    }
    Ok(ds)
}

/// A fresh install posts its digest to `DUNBOT_DIGEST_CHANNEL`; once any channel is
/// subscribed (`dunbot subscribe`), that is the admin's choice and nothing is added beside it.
pub async fn default_subscription(app: &App) -> Result<Option<i64>> {
    let s = &app.settings;
    let mut conn = app.store.pool.acquire().await?;
    Ok(schedule::subscribe_if_none(
        &mut conn,
        &s.digest_channel,
        &s.digest_cron,
        s.time_zone.name(),
    )
    .await?)
}

pub async fn run(app: Arc<App>) -> Result<()> {
    let s = &app.settings;
    default_subscription(&app).await?;
    tracing::info!(
        channel = s.digest_channel,
        cron = s.digest_cron,
        zone = s.time_zone.name(),
        instance = s.instance_id,
        "dunbot serving"
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let sched = {
        let app = app.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            crate::edges::scheduler::run_loop(&app, Duration::from_secs(20), stop).await
        })
    };
    let worker = tokio::spawn(notify::run_loop(
        app.store.clone(),
        deliverers(&app)?,
        Duration::from_secs(2),
        stop_rx.clone(),
    ));
    let autoplan = match crate::app::autoplan::start_time_from_env()? {
        Some(at) => {
            let app = app.clone();
            let stop = stop_rx.clone();
            Some(tokio::spawn(crate::app::autoplan::run_loop(
                app,
                at,
                Duration::from_secs(60),
                stop,
            )))
        }
        None => None,
    };
    let stripe_sync = match crate::edges::stripe::sync::every_from_env()? {
        Some(every) => {
            let client = crate::edges::stripe::sync::Client::from_env()?;
            Some(tokio::spawn(crate::edges::stripe::sync::run_loop(
                app.clone(),
                client,
                every,
                stop_rx.clone(),
            )))
        }
        None => None,
    };
    let discord = crate::edges::discord::start_from_env(&app, stop_rx.clone())?;
    let slack_socket = crate::edges::slack::spawn_socket_mode(app.clone(), stop_rx.clone());
    let listener = crate::edges::http::bind(&app.settings.http_addr).await?;
    let mut http = tokio::spawn(crate::edges::http::serve(app.clone(), listener, stop_rx));
    // The HTTP server carries the platform webhooks and the health check: if it stops on its
    // own, the process must stop too rather than look alive to a supervisor.
    let http_died = tokio::select! {
        _ = shutdown_signal() => None,
        r = &mut http => Some(r),
    };
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = tokio::join!(sched, worker);
    for task in [autoplan, discord, slack_socket, stripe_sync]
        .into_iter()
        .flatten()
    {
        let _ = task.await;
    }
    match http_died {
        None => match http.await {
            Ok(Err(e)) => Err(e.context("HTTP server")),
            _ => Ok(()),
        },
        Some(Ok(Ok(()))) => anyhow::bail!("the HTTP server stopped unexpectedly"),
        Some(Ok(Err(e))) => Err(e.context("HTTP server failed")),
        Some(Err(e)) => Err(anyhow::anyhow!("the HTTP server task ended: {e}")),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
