/* test-history-errors.c — locked, corrupt, read-only, full and too-new
 * databases, and migrations from every earlier schema version
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>
#include <unistd.h>

#include "ponder-history.h"
#include "ponder-history-private.h"
#include "history-test-util.h"

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->dir = history_test_dir_new ();
  f->path = g_build_filename (f->dir, "history.db", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_free (f->path);
  history_test_dir_free (f->dir);
}

static PonderHistory *
open_ok (Fixture *f,
         guint    busy_timeout_ms)
{
  g_autoptr(GError) error = NULL;
  PonderHistory *history = ponder_history_new (f->path, busy_timeout_ms, &error);

  g_assert_no_error (error);
  return history;
}

static gint64
add_user (PonderHistory  *history,
          gint64          conversation,
          const char     *text,
          GError        **error)
{
  g_autoptr(PonderHistoryMessage) m = ponder_history_message_new (PONDER_HISTORY_ROLE_USER, text);

  return ponder_history_add_message (history, conversation, 0, m, error);
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

static void
test_corrupt_garbage (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GBytes) moved = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *new_path = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint8 garbage[8192];

  for (guint i = 0; i < sizeof garbage; i++)
    garbage[i] = (guint8) g_rand_int (rand);
  g_assert_true (g_file_set_contents (f->path, (const char *) garbage, sizeof garbage, NULL));
  before = read_file (f->path);

  history = ponder_history_new (f->path, 0, &error);
  g_assert_null (history);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, f->path));
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* Untouched, byte for byte. */
  after = read_file (f->path);
  g_assert_true (g_bytes_equal (before, after));

  /* The way out: move it aside, start fresh. */
  g_assert_true (ponder_history_move_aside (f->path, &new_path, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (new_path, f->path));
  g_assert_nonnull (strstr (new_path, ".corrupt-"));
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
  moved = read_file (new_path);
  g_assert_true (g_bytes_equal (before, moved));

  history = open_ok (f, 0);
  list = ponder_history_list_conversations (history, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
}

/* A real database whose pages are damaged after the header: the error must
 * surface, never an empty history. */
static void
test_corrupt_pages (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  history = open_ok (f, 0);
  for (guint i = 0; i < 50; i++)
    {
      gint64 c = ponder_history_create_conversation (history, "a title", NULL, &error);
      g_assert_cmpint (add_user (history, c, "some text to fill pages with", &error), >, 0);
    }
  g_clear_object (&history);  /* the last close checkpoints the WAL */
  {
    g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
    g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  }

  g_assert_true (g_file_get_contents (f->path, &contents, &len, NULL));
  g_assert_cmpuint (len, >, 4096);
  for (gsize i = 100; i < len; i++)
    contents[i] = (char) (0xA5 ^ (i * 31));
  g_assert_true (g_file_set_contents (f->path, contents, len, NULL));

  history = ponder_history_new (f->path, 0, &error);
  if (history != NULL)
    {
      list = ponder_history_list_conversations (history, 0, &error);
      g_assert_null (list);
    }
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_CORRUPT);
}

/* Another program holds the write lock (here, another connection inside
 * BEGIN EXCLUSIVE): writes fail with BUSY after the timeout, reads go on
 * (WAL), and everything works once the lock is gone. */
static void
test_locked (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  g_autoptr(GPtrArray) list = NULL;
  sqlite3 *other;
  gint64 c;

  history = open_ok (f, 100);
  c = ponder_history_create_conversation (history, "locked", NULL, &error);
  g_assert_no_error (error);

  other = history_test_raw_open (f->path);
  history_test_raw_exec (other, "BEGIN EXCLUSIVE; UPDATE conversations SET title = 'x';");

  g_assert_cmpint (add_user (history, c, "hello", &error), ==, 0);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_BUSY);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (ponder_history_rename_conversation (history, c, "y", &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_BUSY);
  g_clear_error (&error);

  list = ponder_history_list_conversations (history, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((PonderHistoryConversation *) list->pdata[0])->title, ==, "locked");

  history_test_raw_exec (other, "ROLLBACK");
  g_assert_cmpint (add_user (history, c, "hello", &error), >, 0);
  g_assert_no_error (error);
  sqlite3_close (other);
}

/* A database in rollback-journal mode, locked by another program before
 * Ponder ever opened it: opening fails with BUSY, not an empty history. */
static void
test_locked_at_open (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  sqlite3 *other;

  other = history_test_raw_open (f->path);
  history_test_raw_exec (other, "CREATE TABLE t (x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);");

  history = ponder_history_new (f->path, 100, &error);
  g_assert_null (history);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_BUSY);
  g_clear_error (&error);

  history_test_raw_exec (other, "COMMIT");
  sqlite3_close (other);
  history = open_ok (f, 100);
}

static void
test_read_only (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  g_autoptr(GPtrArray) list = NULL;
  gint64 c;

  history = open_ok (f, 0);
  c = ponder_history_create_conversation (history, "ro", NULL, &error);

  /* query_only makes SQLite refuse writes with SQLITE_READONLY, the code a
   * read-only file gives; it works even where the tests run as root. */
  history_test_raw_exec (_ponder_history_get_db (history), "PRAGMA query_only = 1");
  g_assert_cmpint (add_user (history, c, "hello", &error), ==, 0);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_READ_ONLY);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  list = ponder_history_list_conversations (history, 0, &error);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_object (&history);

  /* A truly read-only file, where permissions are enforced. */
  if (geteuid () == 0)
    {
      g_test_message ("running as root: file permissions are not enforced, skipping chmod part");
      return;
    }

  g_assert_cmpint (g_chmod (f->path, 0444), ==, 0);
  history = ponder_history_new (f->path, 0, &error);
  if (history != NULL)
    g_assert_false (ponder_history_rename_conversation (history, c, "x", &error));
  g_assert_true (g_error_matches (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_READ_ONLY) ||
                 g_error_matches (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_CANT_OPEN));
  g_chmod (f->path, 0644);
}

static void
test_disk_full (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  g_autoptr(GPtrArray) path = NULL;
  g_autofree char *big = g_strnfill (256 * 1024, 'x');
  sqlite3 *db;
  gint64 c;

  history = open_ok (f, 0);
  c = ponder_history_create_conversation (history, "full", NULL, &error);
  g_assert_cmpint (add_user (history, c, "small", &error), >, 0);

  /* A page limit at the current size stands in for a full disk: SQLite
   * reports SQLITE_FULL through the same path. */
  db = _ponder_history_get_db (history);
  history_test_raw_exec (db, "PRAGMA max_page_count = 1");
  g_assert_cmpint (add_user (history, c, big, &error), ==, 0);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_DISK_FULL);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  /* Nothing half-written; what was there still reads. */
  path = ponder_history_list_active_path (history, c, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (path->len, ==, 1);
  g_assert_cmpstr (((PonderHistoryMessage *) path->pdata[0])->content, ==, "small");
}

static void
test_too_new (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  sqlite3 *raw;

  raw = history_test_raw_open (f->path);
  history_test_raw_exec (raw, "CREATE TABLE future (x); PRAGMA user_version = 99;");
  sqlite3_close (raw);
  before = read_file (f->path);

  history = ponder_history_new (f->path, 0, &error);
  g_assert_null (history);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_TOO_NEW);
  g_test_message ("%s", error->message);

  raw = history_test_raw_open (f->path);
  g_assert_cmpint (history_test_raw_int (raw, "PRAGMA user_version"), ==, 99);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM sqlite_master"
                                              " WHERE name = 'messages'"), ==, 0);
  sqlite3_close (raw);
}

/* Migrations. Old databases are built from the SQL files in the source tree
 * (history_test_apply_source_schema), never through the store. */

/* Version-1 rows: a conversation with an edited first message, the chosen
 * branch being the edit. Written with columns every version has. */
static void
insert_v1_rows (sqlite3 *raw)
{
  history_test_raw_exec (raw,
    "PRAGMA foreign_keys = ON;"
    "INSERT INTO conversations (id, title, created_us, updated_us, model, temperature)"
    "  VALUES (1, 'Old chat', 1000, 2000, 'old-model', 0.4);"
    "INSERT INTO messages (id, conversation_id, parent_id, role, content, created_us)"
    "  VALUES (1, 1, NULL, 'user', 'original zebra question', 1001);"
    "INSERT INTO messages (id, conversation_id, parent_id, role, content, reasoning,"
    "  reasoning_s, n_answer_tokens, created_us)"
    "  VALUES (2, 1, 1, 'assistant', 'first answer', 'pondering giraffes', 3.5, 2, 1002);"
    "INSERT INTO messages (id, conversation_id, parent_id, role, content, created_us)"
    "  VALUES (3, 1, NULL, 'user', 'edited question', 1003);"
    "INSERT INTO messages (id, conversation_id, parent_id, role, content, complete, created_us)"
    "  VALUES (4, 1, 3, 'assistant', 'partial okapi', 0, 1004);"
    "UPDATE conversations SET active_root_id = 1 WHERE id = 1;"
    "UPDATE messages SET active_child_id = 2 WHERE id = 1;"
    "INSERT INTO conversations (id, title, created_us, updated_us)"
    "  VALUES (2, 'Newer chat', 3000, 4000);");
}

static void
test_migrations (Fixture       *f,
                 gconstpointer  data)
{
  for (guint from = 0; from < PONDER_HISTORY_SCHEMA_VERSION; from++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PonderHistory) history = NULL;
      g_autoptr(GPtrArray) list = NULL;
      g_autoptr(GPtrArray) path = NULL;
      g_autoptr(GPtrArray) hits = NULL;
      PonderHistoryMessage *m;
      sqlite3 *raw;

      g_test_message ("migrating from schema version %u", from);
      g_unlink (f->path);
      raw = history_test_raw_open (f->path);
      for (guint v = 1; v <= from; v++)
        history_test_apply_source_schema (raw, v);
      if (from >= 1)
        insert_v1_rows (raw);
      sqlite3_close (raw);

      history = open_ok (f, 0);

      raw = history_test_raw_open (f->path);
      g_assert_cmpint (history_test_raw_int (raw, "PRAGMA user_version"), ==,
                       PONDER_HISTORY_SCHEMA_VERSION);
      g_assert_cmpstr (history_test_raw_text (raw, "PRAGMA integrity_check"), ==, "ok");
      g_assert_cmpstr (history_test_raw_text (raw, "PRAGMA journal_mode"), ==, "wal");
      sqlite3_close (raw);

      list = ponder_history_list_conversations (history, 0, &error);
      g_assert_no_error (error);
      if (from == 0)
        {
          g_assert_cmpuint (list->len, ==, 0);
          continue;
        }

      g_assert_cmpuint (list->len, ==, 2);
      g_assert_cmpstr (((PonderHistoryConversation *) list->pdata[0])->title, ==, "Newer chat");
      g_assert_cmpstr (((PonderHistoryConversation *) list->pdata[1])->model, ==, "old-model");
      g_assert_cmpfloat (((PonderHistoryConversation *) list->pdata[1])->sampling.temperature,
                         ==, 0.4);

      path = ponder_history_list_active_path (history, 1, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (path->len, ==, 2);
      m = g_ptr_array_index (path, 1);
      g_assert_cmpstr (m->content, ==, "first answer");
      g_assert_cmpstr (m->reasoning, ==, "pondering giraffes");
      g_assert_cmpfloat (m->reasoning_s, ==, 3.5);
      g_assert_cmpint (m->n_answer_tokens, ==, 2);
      g_assert_cmpuint (((PonderHistoryMessage *) path->pdata[0])->n_siblings, ==, 2);

      /* Text stored before search existed is found. */
      hits = ponder_history_search (history, "okapi", 0, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (hits->len, ==, 1);
      g_assert_cmpint (((PonderHistorySearchHit *) hits->pdata[0])->message_id, ==, 4);
      g_clear_pointer (&hits, g_ptr_array_unref);
      hits = ponder_history_search (history, "giraffes", 0, &error);
      g_assert_cmpuint (hits->len, ==, 1);
      g_clear_pointer (&hits, g_ptr_array_unref);
      hits = ponder_history_search (history, "old chat", 0, &error);
      g_assert_cmpuint (hits->len, ==, 1);
    }
}

/* A migration that fails half-way leaves the old version as it was. */
static void
test_migration_atomic (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  sqlite3 *raw;

  raw = history_test_raw_open (f->path);
  history_test_apply_source_schema (raw, 1);
  insert_v1_rows (raw);
  /* In the way of version 2's trigger of the same name. */
  history_test_raw_exec (raw, "CREATE TRIGGER conversations_fts_update AFTER UPDATE ON"
                              " conversations BEGIN SELECT 1; END;");
  sqlite3_close (raw);

  history = ponder_history_new (f->path, 0, &error);
  g_assert_null (history);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_FAILED);
  g_test_message ("%s", error->message);

  raw = history_test_raw_open (f->path);
  g_assert_cmpint (history_test_raw_int (raw, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM sqlite_master"
                                              " WHERE name = 'messages_fts'"), ==, 0);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages"), ==, 4);
  sqlite3_close (raw);
}

static void
test_not_found (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = open_ok (f, 0);

  g_assert_null (ponder_history_get_conversation (history, 12, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (ponder_history_list_active_path (history, 12, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ponder_history_delete_message (history, 5, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (ponder_history_export_json (history, 3, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
}

/* The folder cannot be made (a file is in the way). */
static void
test_cant_open (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistory) history = NULL;
  g_autofree char *blocker = g_build_filename (f->dir, "not-a-folder", NULL);
  g_autofree char *path = g_build_filename (blocker, "ponder", "history.db", NULL);

  g_assert_true (g_file_set_contents (blocker, "x", 1, NULL));
  history = ponder_history_new (path, 0, &error);
  g_assert_null (history);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_CANT_OPEN);
  g_test_message ("%s", error->message);
}

static void
test_default_path (void)
{
  g_autofree char *path = ponder_history_dup_default_path ();
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "ponder", "history.db",
                                                NULL);

  g_assert_cmpstr (path, ==, expected);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add (name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/history/errors/corrupt-garbage", test_corrupt_garbage);
  ADD ("/history/errors/corrupt-pages", test_corrupt_pages);
  ADD ("/history/errors/locked", test_locked);
  ADD ("/history/errors/locked-at-open", test_locked_at_open);
  ADD ("/history/errors/read-only", test_read_only);
  ADD ("/history/errors/disk-full", test_disk_full);
  ADD ("/history/errors/too-new", test_too_new);
  ADD ("/history/errors/not-found", test_not_found);
  ADD ("/history/errors/cant-open", test_cant_open);
  ADD ("/history/migrations/every-version", test_migrations);
  ADD ("/history/migrations/atomic", test_migration_atomic);
#undef ADD
  g_test_add_func ("/history/default-path", test_default_path);

  return g_test_run ();
}
