//! `message::Message` as Discord messages: embeds for the text, action rows of buttons for the
//! commands. Discord rejects a message over its limits outright, so a long message is split
//! into several posts, and past `max_posts` the rest is summarised with a count.
use super::config::RoleMapping;
use super::custom_id;
use crate::domain::roles::Role;
use crate::message::{Block, Button, ButtonStyle, Mention, Message};
use serde::Serialize;

/// Discord's message limits (developer docs, "Create Message" and "Embed Limits").
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub content: usize,
    pub embeds: usize,
    pub embed_total: usize,
    pub title: usize,
    pub description: usize,
    pub fields: usize,
    pub field_name: usize,
    pub field_value: usize,
    pub rows: usize,
    pub per_row: usize,
    pub label: usize,
    /// Posts one message may become before the rest is counted instead of shown.
    pub max_posts: usize,
}

pub const LIMITS: Limits = Limits {
    content: 2000,
    embeds: 10,
    embed_total: 6000,
    title: 256,
    description: 4096,
    fields: 25,
    field_name: 256,
    field_value: 1024,
    rows: 5,
    per_row: 5,
    label: 80,
    max_posts: 10,
};

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Embed {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<EmbedField>,
}

impl Embed {
    /// Characters that count toward the 6,000 across a message's embeds.
    pub fn chars(&self) -> usize {
        len(self.title.as_deref().unwrap_or(""))
            + len(self.description.as_deref().unwrap_or(""))
            + self
                .fields
                .iter()
                .map(|f| len(&f.name) + len(&f.value))
                .sum::<usize>()
    }

    fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.fields.is_empty()
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EmbedField {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

/// An action row (component type 1) of buttons.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    #[serde(rename = "type")]
    pub kind: u8,
    pub components: Vec<ButtonComponent>,
}

/// A button (component type 2).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ButtonComponent {
    #[serde(rename = "type")]
    pub kind: u8,
    /// 1 primary, 2 secondary, 4 danger.
    pub style: u8,
    pub label: String,
    pub custom_id: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
    /// The role ids a ping names, and only those: never `@everyone`, never parsed from text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// One Discord message body (Create Message, or an interaction response's data).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Post {
    pub content: String,
    pub embeds: Vec<Embed>,
    pub components: Vec<Row>,
    /// Text from the ledger never pings anyone.
    pub allowed_mentions: AllowedMentions,
}

impl Post {
    fn new() -> Post {
        Post {
            content: String::new(),
            embeds: vec![],
            components: vec![],
            allowed_mentions: AllowedMentions {
                parse: vec![],
                roles: vec![],
            },
        }
    }

    pub fn embed_chars(&self) -> usize {
        self.embeds.iter().map(Embed::chars).sum()
    }

    pub fn buttons(&self) -> impl Iterator<Item = &ButtonComponent> {
        self.components.iter().flat_map(|r| r.components.iter())
    }
}

/// Renders within Discord's limits.
pub fn render(msg: &Message) -> Vec<Post> {
    render_with(msg, &LIMITS)
}

/// The Discord role ids that stand for the message's mentions: the manager roles, or the
/// roles mapped to the named agency (`DISCORD_ROLE_MANAGER`, `DISCORD_ROLE_AGENCY`).
pub fn mention_roles(msg: &Message, roles: &[RoleMapping]) -> Vec<u64> {
    let mut ids: Vec<u64> = Vec::new();
    for m in &msg.mentions {
        for r in roles {
            let hit = match m {
                Mention::Managers => r.role == Role::Manager,
                Mention::Finance => r.role == Role::Finance,
                Mention::Agency { name } => {
                    r.role == Role::Agency && r.agency.as_deref() == Some(name.as_str())
                }
            };
            if hit && !ids.contains(&r.role_id) {
                ids.push(r.role_id);
            }
        }
    }
    ids
}

/// Puts the role mentions at the head of the first post's content, and allows exactly those
/// roles to be pinged: the content is what Discord notifies from.
pub fn mention(posts: &mut [Post], role_ids: &[u64]) {
    let Some(first) = posts.first_mut() else {
        return;
    };
    if role_ids.is_empty() {
        return;
    }
    let tags: Vec<String> = role_ids.iter().map(|id| format!("<@&{id}>")).collect();
    let content = if first.content.is_empty() {
        tags.join(" ")
    } else {
        format!("{} {}", tags.join(" "), first.content)
    };
    first.content = truncate(&content, LIMITS.content);
    first.allowed_mentions.roles = role_ids.iter().map(u64::to_string).collect();
}

pub fn render_with(msg: &Message, limits: &Limits) -> Vec<Post> {
    // A plain reply (one paragraph, the same as its summary) reads best as plain content.
    if let [Block::Text { text }] = msg.blocks.as_slice()
        && *text == msg.text
        && len(&markup(text)) <= limits.content
    {
        let mut post = Post::new();
        post.content = markup(text);
        return vec![post];
    }
    let mut b = Builder {
        l: *limits,
        posts: vec![Post::new()],
        open: false,
        omitted: 0,
        seq: 0,
    };
    let labelled = msg
        .blocks
        .iter()
        .filter(|b| matches!(b, Block::Item { buttons, .. } if !buttons.is_empty()))
        .count()
        > 1;
    for block in &msg.blocks {
        match block {
            Block::Header { text } => b.header(&markup(text)),
            Block::Divider => b.open = false,
            Block::Text { text } => b.line(&markup(text), &[], labelled),
            Block::Context { text } => b.line(&format!("_{}_", markup(text)), &[], labelled),
            Block::Item { text, buttons } => {
                b.line(&format!("• {}", markup(text)), buttons, labelled)
            }
            Block::Fields { fields } => b.fields(fields),
        }
    }
    b.finish(&markup(&msg.text))
}

struct Builder {
    l: Limits,
    posts: Vec<Post>,
    /// Whether the last embed takes more lines (a divider or header closes it).
    open: bool,
    /// Lines past `max_posts`, counted instead of shown.
    omitted: usize,
    /// Buttons in the current post, so ids stay unique within it.
    seq: usize,
}

impl Builder {
    fn post(&mut self) -> &mut Post {
        self.posts.last_mut().expect("a post")
    }

    /// Starts a new post; false when that would pass `max_posts`.
    fn next_post(&mut self) -> bool {
        if self.posts.len() >= self.l.max_posts {
            return false;
        }
        self.posts.push(Post::new());
        self.seq = 0;
        self.open = false;
        true
    }

    /// Makes room for a line (or title/fields) of `chars` characters in a new or the open
    /// embed; false when the message is already at `max_posts`.
    fn room(&mut self, chars: usize, new_embed: bool) -> bool {
        if self.omitted > 0 {
            return false;
        }
        let l = self.l;
        let open = self.open;
        let post = self.post();
        // What appending costs: a newline joins it to the open embed's description.
        let joined = post
            .embeds
            .last()
            .and_then(|e| e.description.as_deref())
            .map_or(0, |d| if d.is_empty() { 0 } else { len(d) + 1 });
        let needs_embed =
            new_embed || !open || post.embeds.is_empty() || joined + chars > l.description;
        let cost = if needs_embed || joined == 0 {
            chars
        } else {
            chars + 1
        };
        let full = post.embed_chars() + cost > l.embed_total
            || (needs_embed && post.embeds.len() >= l.embeds);
        if full {
            if !self.next_post() {
                return false;
            }
            self.post().embeds.push(Embed::default());
        } else if needs_embed {
            self.post().embeds.push(Embed::default());
        }
        self.open = true;
        true
    }

    fn header(&mut self, text: &str) {
        let title = truncate(text, self.l.title);
        if self.room(len(&title), true) {
            self.post().embeds.last_mut().expect("embed").title = Some(title);
        } else {
            self.omitted += 1;
        }
    }

    fn line(&mut self, text: &str, buttons: &[Button], labelled: bool) {
        let text = truncate(text, self.l.description);
        let rows: Vec<Vec<&Button>> = buttons
            .chunks(self.l.per_row)
            .map(|c| c.iter().collect())
            .collect();
        if self.omitted == 0 && self.post().components.len() + rows.len() > self.l.rows {
            if self.next_post() {
                self.post().embeds.push(Embed::default());
                self.open = true;
            } else {
                self.omitted += 1;
                return;
            }
        }
        if !self.room(len(&text), false) {
            self.omitted += 1;
            return;
        }
        let embed = self.post().embeds.last_mut().expect("embed");
        let desc = embed.description.get_or_insert_with(String::new);
        if !desc.is_empty() {
            desc.push('\n');
        }
        desc.push_str(&text);
        for row in rows {
            let mut components = Vec::new();
            for button in row {
                let opens_form = button.form.is_some();
                let Some(id) = custom_id::button(self.seq, &button.command, opens_form) else {
                    tracing::warn!(
                        command = button.command,
                        "button command too long for a Discord custom_id; left out"
                    );
                    continue;
                };
                self.seq += 1;
                components.push(ButtonComponent {
                    kind: 2,
                    style: style(button.style),
                    label: label(button, labelled, self.l.label),
                    custom_id: id,
                });
            }
            if !components.is_empty() {
                self.post().components.push(Row {
                    kind: 1,
                    components,
                });
            }
        }
    }

    fn fields(&mut self, fields: &[(String, String)]) {
        let fields: Vec<EmbedField> = fields
            .iter()
            .take(self.l.fields)
            .map(|(n, v)| EmbedField {
                name: truncate(&markup(n), self.l.field_name),
                value: truncate(&markup(v), self.l.field_value),
                inline: true,
            })
            .collect();
        let chars = fields.iter().map(|f| len(&f.name) + len(&f.value)).sum();
        let l = self.l;
        let fits = self.open
            && self
                .post()
                .embeds
                .last()
                .is_some_and(|e| e.fields.len() + fields.len() <= l.fields);
        if !self.room(chars, !fits) {
            self.omitted += 1;
            return;
        }
        self.post()
            .embeds
            .last_mut()
            .expect("embed")
            .fields
            .extend(fields);
        // Lines after fields start a new embed so they read below the columns.
        self.open = false;
    }

    fn finish(mut self, summary: &str) -> Vec<Post> {
        for p in &mut self.posts {
            p.embeds.retain(|e| !e.is_empty());
        }
        let content_max = self.l.content;
        self.posts[0].content = truncate(summary, content_max);
        if self.omitted > 0 {
            let note = format!(
                "…and {} more lines not shown here (Discord limits a message's size); see the full list with the command.",
                self.omitted
            );
            let last = self.posts.last_mut().expect("a post");
            let content = if last.content.is_empty() {
                note
            } else {
                format!("{}\n{note}", last.content)
            };
            last.content = truncate(&content, content_max);
        }
        self.posts
    }
}

fn style(s: ButtonStyle) -> u8 {
    match s {
        ButtonStyle::Primary => 1,
        ButtonStyle::Default => 2,
        ButtonStyle::Danger => 4,
    }
}

/// In a message with several entries, a button names its subject ("Approve · 12"), since the
/// rows sit below the embed rather than beside their line.
fn label(b: &Button, labelled: bool, max: usize) -> String {
    let subject = b.command.split_whitespace().nth(1).filter(|_| labelled);
    let text = match subject {
        Some(s) => format!("{} · {s}", b.label),
        None => b.label.clone(),
    };
    truncate(&text, max)
}

/// The core's only markup is `*bold*`; Discord's bold is `**bold**`.
pub fn markup(text: &str) -> String {
    text.replace('*', "**")
}

pub fn len(s: &str) -> usize {
    s.chars().count()
}

/// At most `max` characters, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if len(s) <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::account_buttons;
    use crate::message::Visibility;

    /// A digest-shaped message with `n` accounts, each with its three buttons.
    fn digest(n: usize) -> Message {
        let mut blocks = vec![
            Block::Header {
                text: "Collections digest — Mon 23 Nov 2026".into(),
            },
            Block::Fields {
                fields: vec![
                    ("Open".into(), format!("$1,000.00 across {n} accounts")),
                    ("1–30".into(), "$1,000.00".into()),
                ],
            },
            Block::Divider,
            Block::Text {
                text: format!("*Overdue 1–30 days* ({n} accounts)"),
            },
        ];
        for i in 0..n {
            blocks.push(Block::Item {
                text: format!(
                    "*ACCT-{i:05}* Customer number {i} with a long trading name Ltd — $1,234.56, 12 days late, stage: firm notice · collector-{i}"
                ),
                buttons: account_buttons(&format!("ACCT-{i:05}")),
            });
        }
        Message {
            text: format!("Collections digest: {n} overdue"),
            blocks,
            visibility: Visibility::Channel,
            ..Default::default()
        }
    }

    fn assert_within_limits(posts: &[Post]) {
        let l = LIMITS;
        assert!(!posts.is_empty() && posts.len() <= l.max_posts);
        for p in posts {
            assert!(len(&p.content) <= l.content);
            assert!(p.embeds.len() <= l.embeds);
            assert!(p.embed_chars() <= l.embed_total, "{}", p.embed_chars());
            assert!(p.components.len() <= l.rows);
            let mut ids = std::collections::HashSet::new();
            for e in &p.embeds {
                assert!(len(e.title.as_deref().unwrap_or("")) <= l.title);
                assert!(len(e.description.as_deref().unwrap_or("")) <= l.description);
                assert!(e.fields.len() <= l.fields);
            }
            for r in &p.components {
                assert!(!r.components.is_empty() && r.components.len() <= l.per_row);
            }
            for b in p.buttons() {
                assert!(len(&b.label) <= l.label);
                assert!(len(&b.custom_id) <= custom_id::MAX);
                assert!(ids.insert(b.custom_id.clone()), "duplicate {}", b.custom_id);
            }
        }
    }

    fn shown_accounts(posts: &[Post]) -> usize {
        posts
            .iter()
            .flat_map(|p| &p.embeds)
            .filter_map(|e| e.description.as_deref())
            .flat_map(|d| d.lines())
            .filter(|l| l.starts_with("• "))
            .count()
    }

    fn omitted(posts: &[Post]) -> usize {
        let c = &posts.last().unwrap().content;
        c.split("…and ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .map(|n| n.parse().unwrap())
            .unwrap_or(0)
    }

    #[test]
    fn one_account_is_one_message_with_its_buttons() {
        let posts = render(&digest(1));
        assert_within_limits(&posts);
        assert_eq!(posts.len(), 1);
        let p = &posts[0];
        assert_eq!(p.content, "Collections digest: 1 overdue");
        assert_eq!(
            p.embeds[0].title.as_deref(),
            Some("Collections digest — Mon 23 Nov 2026")
        );
        assert_eq!(p.embeds[0].fields.len(), 2);
        let desc = p.embeds[1].description.as_deref().unwrap();
        assert!(
            desc.contains("• **ACCT-00000** Customer number 0"),
            "{desc}"
        );
        let ids: Vec<&str> = p.buttons().map(|b| b.custom_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "r:0:remind ACCT-00000",
                "f:1:promise ACCT-00000",
                "f:2:flag ACCT-00000"
            ]
        );
        let labels: Vec<&str> = p.buttons().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["Send reminder", "Log promise", "Flag for call"]);
        assert_eq!(shown_accounts(&posts), 1);
        assert_eq!(omitted(&posts), 0);
    }

    #[test]
    fn fifty_accounts_are_split_into_messages_of_five_rows() {
        let posts = render(&digest(50));
        assert_within_limits(&posts);
        assert_eq!(posts.len(), 10);
        assert!(posts.iter().all(|p| p.components.len() == 5));
        assert_eq!(shown_accounts(&posts), 50);
        assert_eq!(omitted(&posts), 0);
        let labels: Vec<&str> = posts[0].buttons().map(|b| b.label.as_str()).collect();
        assert_eq!(labels[0], "Send reminder · ACCT-00000");
    }

    #[test]
    fn five_thousand_accounts_are_summarised_with_a_count() {
        let posts = render(&digest(5000));
        assert_within_limits(&posts);
        assert_eq!(posts.len(), LIMITS.max_posts);
        let shown = shown_accounts(&posts);
        assert_eq!(shown, 50);
        assert_eq!(omitted(&posts), 5000 - shown);
    }

    #[test]
    fn long_text_is_cut_to_the_limits_and_never_lost_silently() {
        let msg = Message {
            text: "t".repeat(5000),
            blocks: vec![
                Block::Header {
                    text: "h".repeat(400),
                },
                Block::Text {
                    text: "x".repeat(5000),
                },
                Block::Text {
                    text: "y".repeat(3000),
                },
                Block::Text {
                    text: "z".repeat(3000),
                },
            ],
            visibility: Visibility::Channel,
            ..Default::default()
        };
        let posts = render(&msg);
        assert_within_limits(&posts);
        assert_eq!(posts.len(), 2, "{:?}", posts.iter().map(Post::embed_chars));
        assert!(posts[0].embeds[0].title.as_ref().unwrap().ends_with('…'));
        assert_eq!(len(&posts[0].content), 2000);
    }

    #[test]
    fn a_plain_reply_is_plain_content() {
        let posts = render(&Message::channel("*Offer 3* approved by Maria."));
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].content, "**Offer 3** approved by Maria.");
        assert!(posts[0].embeds.is_empty() && posts[0].components.is_empty());
    }

    #[test]
    fn a_ping_mentions_exactly_its_roles() {
        let mut roles = super::super::config::parse_roles("M", "11", Role::Manager).unwrap();
        roles.extend(
            super::super::config::parse_roles("A", "33=Northwind,34=Other", Role::Agency).unwrap(),
        );
        let msg = Message::channel("Offer 3 approved").mentioning(Mention::Agency {
            name: "Northwind".into(),
        });
        let ids = mention_roles(&msg, &roles);
        assert_eq!(ids, [33]);
        let mut posts = render(&msg);
        mention(&mut posts, &ids);
        assert_eq!(posts[0].content, "<@&33> Offer 3 approved");
        let body = serde_json::to_value(&posts[0]).unwrap();
        assert_eq!(
            body["allowed_mentions"],
            serde_json::json!({"parse": [], "roles": ["33"]})
        );
        let plain = serde_json::to_value(&render(&Message::channel("x"))[0]).unwrap();
        assert_eq!(plain["allowed_mentions"], serde_json::json!({"parse": []}));
    }

    #[test]
    fn bold_becomes_discord_bold() {
        assert_eq!(markup("*Offer 3*: x"), "**Offer 3**: x");
    }
}
