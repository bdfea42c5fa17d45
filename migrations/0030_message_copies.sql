-- Where dunbot posted each copy of a message about a topic (e.g. `offer:12`): the managers'
-- ping, the reply in the channel where the offer was recorded. A decision edits every copy,
-- so none keeps buttons that no longer apply. Recorded by the edge or deliverer that posted.
CREATE TABLE message_copies (
    topic      text NOT NULL,
    -- `slack:C0123` or `discord:<channel id>`
    channel    text NOT NULL,
    -- the Slack message's ts, or the Discord message id
    message_id text NOT NULL,
    posted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, message_id)
);
CREATE INDEX message_copies_topic ON message_copies (topic);

-- What every copy of a topic says once it is settled (an offer's decision): a copy recorded
-- after the decision (a ping delivered late) is edited to it at once.
CREATE TABLE topic_outcomes (
    topic      text PRIMARY KEY,
    message    jsonb NOT NULL,
    settled_at timestamptz NOT NULL DEFAULT now()
);
