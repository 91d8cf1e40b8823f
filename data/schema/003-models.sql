-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 3: the model library. Each imported GGUF file is one row,
-- keyed by its path; what is shown in the list (name, architecture,
-- parameters, quantisation, size, training context) is read once at import
-- from the file's metadata, so the list draws without opening any model and
-- still shows a model whose file has gone missing. Conversations keep naming
-- their model by text, so forgetting a model never touches a conversation.

CREATE TABLE models (
  id            INTEGER PRIMARY KEY,
  path          TEXT    NOT NULL UNIQUE,
  name          TEXT    NOT NULL DEFAULT '',
  architecture  TEXT    NOT NULL DEFAULT '',
  n_params      INTEGER NOT NULL DEFAULT 0,
  file_type     TEXT    NOT NULL DEFAULT '',
  file_size     INTEGER NOT NULL DEFAULT 0,
  n_ctx_train   INTEGER NOT NULL DEFAULT 0,
  -- The context length the user chose for this model; 0 = the default.
  n_ctx         INTEGER NOT NULL DEFAULT 0,
  added_us      INTEGER NOT NULL,
  -- 0 until the model is first loaded.
  last_used_us  INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX models_by_last_used ON models (last_used_us DESC, added_us DESC);
