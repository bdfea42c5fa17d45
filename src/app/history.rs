//! `ar history <account> [page] [--all]`: the account's timeline, newest first.
//!
//! A page is 20 entries, one line each, so it fits one message on every platform (Slack: 50
//! blocks, 3,000 characters a section; Discord: 2,000 characters of content, 4,096 an embed
//! description); an "Older" button runs the next page. `--all` puts every entry in one reply,
//! which the edges split into as many posts as their limits need (Slack: up to five answers
//! to a command; Discord: follow-ups), each long line cut to fit.
use super::{Ctx, Done, Fail, args};
use crate::commands::Parsed;
use crate::domain::timeline::{line, pages};
use crate::message::forms::button;
use crate::message::{Block, ButtonStyle, Message, Visibility};
use crate::refuse;
use crate::store::timeline;
use sqlx::PgConnection;

/// Entries on one page.
pub const PAGE: usize = 20;
/// Characters of one entry's line: a long note is cut (`ar history --all` and the note's
/// own reply keep it whole in the log).
const LINE_MAX: usize = 600;
/// Characters of one text block: under Slack's 3,000 a section and Discord's 2,000 of
/// content, so no edge has to cut an entry in two.
const BLOCK_CHARS: usize = 1800;

pub async fn history(ctx: &Ctx<'_>, tx: &mut PgConnection, p: &Parsed<'_>) -> Result<Done, Fail> {
    let acc = args::account(ctx, tx, p.get("account").unwrap_or_default(), false).await?;
    let page = match p.get("page") {
        None => 1,
        Some(t) => match t.trim().trim_start_matches('#').parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => refuse!(
                "`{t}` is not a page number: use 1 (the newest entries), 2, 3… e.g. `{} {} 2`, or `--all` for everything.",
                ctx.typed("history"),
                acc.code
            ),
        },
    };
    let total = timeline::count(tx, acc.id, &acc.code).await? as usize;
    let all = p.flag("all");
    let last_page = pages(total, PAGE);
    if !all && page > last_page {
        refuse!(
            "{} has {} timeline entries: {} {}. Ask for page 1 to {last_page}.",
            acc.code,
            total,
            last_page,
            if last_page == 1 { "page" } else { "pages" }
        );
    }
    let (limit, offset) = if all {
        (None, 0)
    } else {
        (Some(PAGE as i64), ((page - 1) * PAGE) as i64)
    };
    let entries = timeline::entries(tx, acc.id, &acc.code, limit, offset).await?;
    let tz = ctx.app.settings.time_zone;
    let lines: Vec<String> = entries
        .iter()
        .map(|e| clip(&line(e, tz), LINE_MAX))
        .collect();
    let title = format!("History of {} — {}", acc.code, acc.name);
    let mut blocks = vec![Block::Header {
        text: title.clone(),
    }];
    let shown = if all {
        format!("All {total} entries, newest first.")
    } else if total == 0 {
        String::new()
    } else {
        format!(
            "Entries {}–{} of {total}, newest first (page {page} of {last_page}).",
            offset + 1,
            offset as usize + entries.len()
        )
    };
    if lines.is_empty() {
        blocks.push(Block::Text {
            text: "Nothing has happened on this account yet.".into(),
        });
    } else {
        blocks.push(Block::Context { text: shown });
        for text in pack(&lines, BLOCK_CHARS) {
            blocks.push(Block::Text { text });
        }
    }
    if !all && page < last_page {
        blocks.push(Block::Item {
            text: format!(
                "{} older entries.",
                total - (offset as usize + entries.len())
            ),
            buttons: vec![
                button(
                    "Older",
                    &format!("history {} {}", acc.code, page + 1),
                    ButtonStyle::Default,
                ),
                button(
                    "All",
                    &format!("history {} --all", acc.code),
                    ButtonStyle::Default,
                ),
            ],
        });
    }
    Ok(Done::new(
        Message {
            text: title,
            blocks,
            visibility: Visibility::Ephemeral,
            ..Default::default()
        },
        Some(acc.code.clone()),
    ))
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Lines joined into texts of at most `max` characters each (a line is never split; each is
/// shorter than `max`).
fn pack(lines: &[String], max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for l in lines {
        let len = cur.chars().count();
        if len > 0 && len + 1 + l.chars().count() > max {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push('\n');
        }
        cur.push_str(l);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pack;

    #[test]
    fn lines_are_packed_into_texts_under_the_limit_without_splitting_one() {
        let lines: Vec<String> = (0..10).map(|i| format!("{i}").repeat(30)).collect();
        let packed = pack(&lines, 100);
        assert_eq!(packed.len(), 4);
        assert!(packed.iter().all(|p| p.chars().count() <= 100));
        assert_eq!(packed.join("\n"), lines.join("\n"));
        assert!(pack(&[], 100).is_empty());
    }
}
