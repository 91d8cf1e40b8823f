-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 2: full-text search over conversation titles and message
-- text (answer and reasoning) with FTS5. The indexes are external-content
-- tables, so the text is stored once; triggers keep them in step with every
-- insert, update and delete (cascaded deletes included).

CREATE VIRTUAL TABLE messages_fts USING fts5 (
  content, reasoning,
  content = 'messages', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE VIRTUAL TABLE conversations_fts USING fts5 (
  title,
  content = 'conversations', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts (rowid, content, reasoning)
    VALUES (new.id, new.content, new.reasoning);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content, reasoning)
    VALUES ('delete', old.id, old.content, old.reasoning);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, reasoning ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content, reasoning)
    VALUES ('delete', old.id, old.content, old.reasoning);
  INSERT INTO messages_fts (rowid, content, reasoning)
    VALUES (new.id, new.content, new.reasoning);
END;

CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
  INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
END;

CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
  INSERT INTO conversations_fts (conversations_fts, rowid, title)
    VALUES ('delete', old.id, old.title);
END;

CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
  INSERT INTO conversations_fts (conversations_fts, rowid, title)
    VALUES ('delete', old.id, old.title);
  INSERT INTO conversations_fts (rowid, title) VALUES (new.id, new.title);
END;

-- Index what version 1 already stored.
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
INSERT INTO conversations_fts (conversations_fts) VALUES ('rebuild');
