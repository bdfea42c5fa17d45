"""Checks Block Kit JSON with Slack's own SDK (slack_sdk from PyPI).

stdin: {"messages": [[block, ...], ...], "views": [view, ...]}
Every block must parse and pass `validate_json()` (text lengths, element counts, ids); each
message must hold at most 50 blocks (Slack's per-message limit), each modal at most 100.
Prints a summary and exits 1 with the first problems on failure.
"""
import json
import sys

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50

data = json.load(sys.stdin)
problems = []
blocks_seen = 0
for m, blocks in enumerate(data.get("messages", [])):
    if len(blocks) > MAX_MESSAGE_BLOCKS:
        problems.append(f"message {m}: {len(blocks)} blocks > {MAX_MESSAGE_BLOCKS}")
    if not blocks:
        problems.append(f"message {m}: no blocks")
    for i, b in enumerate(blocks):
        blocks_seen += 1
        try:
            parsed = Block.parse(b)
            if parsed is None:
                raise ValueError("unknown block")
            parsed.validate_json()
        except Exception as e:  # noqa: BLE001 - report every kind of failure
            problems.append(f"message {m} block {i} ({b.get('type')}): {e}")
for v, view in enumerate(data.get("views", [])):
    try:
        View(**view).validate_json()
        for b in view.get("blocks", []):
            Block.parse(b).validate_json()
    except Exception as e:  # noqa: BLE001
        problems.append(f"view {v}: {e}")

if problems:
    print("\n".join(problems[:20]))
    sys.exit(1)
print(f"ok: {len(data.get('messages', []))} messages, {blocks_seen} blocks, {len(data.get('views', []))} views")
