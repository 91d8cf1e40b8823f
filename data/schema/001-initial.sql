-- SPDX-License-Identifier: GPL-3.0-or-later
-- Ponder conversation history, schema version 1.
--
-- Messages form a tree: editing a user message or regenerating an answer adds
-- a sibling, so nothing is ever overwritten. Each parent remembers the child
-- the user last chose (active_child_id; for roots, the conversation's
-- active_root_id), which is how the active branch survives a restart.
--
-- Deletes are soft first: 'deleted' is 0 for a live row, otherwise the id of
-- the row whose delete hid it, so undoing one delete never revives rows that
-- an earlier, separate delete hid. A purge removes hidden rows for good.
--
-- Times are Unix microseconds (g_get_real_time).

CREATE TABLE conversations (
  id               INTEGER PRIMARY KEY,
  title            TEXT    NOT NULL DEFAULT '',
  created_us       INTEGER NOT NULL,
  updated_us       INTEGER NOT NULL,
  model            TEXT,
  system_prompt    TEXT,
  temperature      REAL    NOT NULL DEFAULT 0.6,
  top_p            REAL    NOT NULL DEFAULT 0.95,
  top_k            INTEGER NOT NULL DEFAULT 0,
  min_p            REAL    NOT NULL DEFAULT 0.0,
  repeat_penalty   REAL    NOT NULL DEFAULT 1.0,
  max_tokens       INTEGER NOT NULL DEFAULT 0,
  seed             INTEGER NOT NULL DEFAULT -1,
  reasoning_budget INTEGER NOT NULL DEFAULT -1,
  skip_reasoning   INTEGER NOT NULL DEFAULT 0,
  active_root_id   INTEGER REFERENCES messages (id) ON DELETE SET NULL,
  deleted          INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE messages (
  id                 INTEGER PRIMARY KEY,
  conversation_id    INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  parent_id          INTEGER REFERENCES messages (id) ON DELETE CASCADE,
  active_child_id    INTEGER REFERENCES messages (id) ON DELETE SET NULL,
  role               TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
  content            TEXT    NOT NULL DEFAULT '',
  reasoning          TEXT    NOT NULL DEFAULT '',
  model              TEXT,
  -- Sampling snapshot of the run that produced an answer; NULL for messages
  -- the user wrote.
  temperature        REAL,
  top_p              REAL,
  top_k              INTEGER,
  min_p              REAL,
  repeat_penalty     REAL,
  max_tokens         INTEGER,
  seed               INTEGER,
  reasoning_budget   INTEGER,
  skip_reasoning     INTEGER,
  -- Timings and token counts, NULL when unknown.
  reasoning_s        REAL,
  ttft_s             REAL,
  tokens_per_s       REAL,
  n_prompt_tokens    INTEGER,
  n_reasoning_tokens INTEGER,
  n_answer_tokens    INTEGER,
  reasoning_expanded INTEGER NOT NULL DEFAULT 0,
  complete           INTEGER NOT NULL DEFAULT 1,
  created_us         INTEGER NOT NULL,
  deleted            INTEGER NOT NULL DEFAULT 0
);

-- Every foreign key gets an index: without one, each cascaded delete or
-- SET NULL scans the whole table.
CREATE INDEX messages_by_conversation ON messages (conversation_id, parent_id, id);
CREATE INDEX messages_by_parent ON messages (parent_id, id);
CREATE INDEX messages_by_active_child ON messages (active_child_id);
CREATE INDEX conversations_by_active_root ON conversations (active_root_id);
CREATE INDEX conversations_by_updated ON conversations (deleted, updated_us DESC);
