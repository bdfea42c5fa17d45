-- Where dunbot posted each copy of a message about a topic (e.g. `offer:12`): the managers'
-- ping, the reply in the channel where the offer was recorded, a digest listing the offer. A
-- decision edits every copy, so none keeps buttons that no longer apply. Recorded by the edge
-- or deliverer that posted.
CREATE TABLE message_copies (
    topic      text NOT NULL,
    -- `slack:C0123` or `discord:<channel id>`
    channel    text NOT NULL,
    -- the Slack message's ts, or the Discord message id
    message_id text NOT NULL,
    -- true: the topic is one line of a longer message (a digest), edited in place; false: the
    -- whole message is about the topic and is replaced.
    line       boolean NOT NULL DEFAULT false,
    posted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, channel, message_id)
);
CREATE INDEX message_copies_topic ON message_copies (topic);

-- What every copy of a topic says once it is settled (an offer's decision): a copy recorded
-- after the decision (a ping delivered late) is edited to it at once.
CREATE TABLE topic_outcomes (
    topic      text PRIMARY KEY,
    -- what a whole copy becomes
    message    jsonb NOT NULL,
    -- for a line copy: the line that says what happened, and the commands whose buttons go
    resolved   text NOT NULL,
    spent      text[] NOT NULL,
    settled_at timestamptz NOT NULL DEFAULT now()
);
