/* test-history-models.c — the model library in the history store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Import, re-import, order, context choice and removal, checked through a
 * separate raw SQLite connection where it matters; and migration into
 * schema 3 from every earlier version, the old databases built from the
 * SQL files in the source tree.
 */

#include <glib.h>
#include <glib/gstdio.h>

#include "history-test-util.h"
#include "ponder-history.h"

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->dir = history_test_dir_new ();
  f->path = g_build_filename (f->dir, "history.db", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_free (f->path);
  history_test_dir_free (f->dir);
}

static PonderHistory *
open_ok (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  PonderHistory *history = ponder_history_new (f->path, 0, &error);

  g_assert_no_error (error);
  g_assert_nonnull (history);
  return history;
}

static PonderHistoryModel *
sample_model (const char *path,
              const char *name,
              guint64     n_params)
{
  PonderHistoryModel *m = ponder_history_model_new (path);

  g_free (m->name);
  m->name = g_strdup (name);
  g_free (m->architecture);
  m->architecture = g_strdup ("qwen2");
  g_free (m->file_type);
  m->file_type = g_strdup ("Q4_K_M");
  m->n_params = n_params;
  m->file_size_bytes = 4683073856u;
  m->n_ctx_train = 131072;
  return m;
}

static void
test_add_list_remove (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(PonderHistory) history = open_ok (f);
  g_autoptr(PonderHistoryModel) a = sample_model ("/models/a.gguf", "Distill <Qwen> & 7B",
                                                  7615616512u);
  g_autoptr(PonderHistoryModel) b = sample_model ("/models/b.gguf", "Distill Llama 8B",
                                                  8030261248u);
  g_autoptr(PonderHistoryModel) got = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  PonderHistoryModel *first;
  gint64 id_a, id_b, again;
  sqlite3 *raw;

  id_a = ponder_history_add_model (history, a, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id_a, >, 0);
  id_b = ponder_history_add_model (history, b, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id_b, >, id_a);

  /* Every field round-trips, 64-bit sizes included. */
  got = ponder_history_get_model (history, id_a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->path, ==, "/models/a.gguf");
  g_assert_cmpstr (got->name, ==, "Distill <Qwen> & 7B");
  g_assert_cmpstr (got->architecture, ==, "qwen2");
  g_assert_cmpstr (got->file_type, ==, "Q4_K_M");
  g_assert_cmpuint (got->n_params, ==, 7615616512u);
  g_assert_cmpuint (got->file_size_bytes, ==, 4683073856u);
  g_assert_cmpuint (got->n_ctx_train, ==, 131072);
  g_assert_cmpuint (got->n_ctx, ==, 0);
  g_assert_cmpint (got->last_used_us, ==, 0);
  g_assert_cmpint (got->added_us, >, 0);

  /* Newest import first while neither was loaded; then the last loaded. */
  list = ponder_history_list_models (history, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((PonderHistoryModel *) list->pdata[0])->id, ==, id_b);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_assert_true (ponder_history_touch_model (history, id_a, &error));
  g_assert_no_error (error);
  list = ponder_history_list_models (history, &error);
  g_assert_cmpint (((PonderHistoryModel *) list->pdata[0])->id, ==, id_a);
  g_clear_pointer (&list, g_ptr_array_unref);
  /* Two loads in a row order by which came last, however fast. */
  g_assert_true (ponder_history_touch_model (history, id_b, &error));
  g_assert_true (ponder_history_touch_model (history, id_a, &error));
  g_assert_true (ponder_history_touch_model (history, id_b, &error));
  list = ponder_history_list_models (history, &error);
  g_assert_cmpint (((PonderHistoryModel *) list->pdata[0])->id, ==, id_b);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* A chosen context survives a re-import, which refreshes the metadata
   * and keeps the id. */
  g_assert_true (ponder_history_set_model_context (history, id_a, 16384, &error));
  g_assert_no_error (error);
  g_free (a->name);
  a->name = g_strdup ("Renamed in the file");
  a->n_ctx = 99;
  again = ponder_history_add_model (history, a, &error);
  g_assert_no_error (error);
  g_assert_cmpint (again, ==, id_a);
  g_clear_pointer (&got, ponder_history_model_free);
  got = ponder_history_find_model (history, "/models/a.gguf", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->name, ==, "Renamed in the file");
  g_assert_cmpuint (got->n_ctx, ==, 16384);
  g_assert_cmpint (got->last_used_us, >, 0);

  raw = history_test_raw_open (f->path);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM models"), ==, 2);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT n_ctx FROM models WHERE path ="
                                              " '/models/a.gguf'"), ==, 16384);

  /* Forgetting one leaves the other. */
  g_assert_true (ponder_history_remove_model (history, id_a, &error));
  g_assert_no_error (error);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM models"), ==, 1);
  sqlite3_close (raw);
  list = ponder_history_list_models (history, &error);
  g_assert_cmpuint (list->len, ==, 1);
  first = list->pdata[0];
  g_assert_cmpstr (first->path, ==, "/models/b.gguf");
  g_clear_pointer (&got, ponder_history_model_free);
  g_assert_null (ponder_history_find_model (history, "/models/a.gguf", &error));
  g_assert_no_error (error);
}

static void
test_errors (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(PonderHistory) history = open_ok (f);
  g_autoptr(PonderHistoryModel) nameless = ponder_history_model_new ("");
  g_autoptr(GError) error = NULL;

  g_assert_null (ponder_history_get_model (history, 42, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ponder_history_remove_model (history, 42, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ponder_history_touch_model (history, 42, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ponder_history_set_model_context (history, 42, 4096, &error));
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (ponder_history_add_model (history, nameless, &error), ==, 0);
  g_assert_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_INVALID);
}

static void
test_migrations (Fixture       *f,
                 gconstpointer  data)
{
  /* Schema 3 adds the library; every version before it must reach it. */
  g_assert_cmpint (PONDER_HISTORY_SCHEMA_VERSION, >=, 3);

  for (guint from = 0; from < 3; from++)
    {
      g_autoptr(PonderHistory) history = NULL;
      g_autoptr(PonderHistoryModel) m = sample_model ("/old/model.gguf", "Old", 1);
      g_autoptr(GPtrArray) list = NULL;
      g_autoptr(GError) error = NULL;
      sqlite3 *raw;

      g_test_message ("migrating from schema version %u", from);
      g_unlink (f->path);
      raw = history_test_raw_open (f->path);
      for (guint v = 1; v <= from; v++)
        history_test_apply_source_schema (raw, v);
      if (from >= 1)
        history_test_raw_exec (raw,
                               "INSERT INTO conversations (id, title, created_us, updated_us,"
                               " model) VALUES (1, 'Kept chat', 1000, 2000, 'Old');");
      sqlite3_close (raw);

      history = open_ok (f);

      raw = history_test_raw_open (f->path);
      g_assert_cmpint (history_test_raw_int (raw, "PRAGMA user_version"), ==,
                       PONDER_HISTORY_SCHEMA_VERSION);
      g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM sqlite_master"
                                                  " WHERE type = 'table' AND name = 'models'"),
                       ==, 1);
      g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM models"), ==, 0);
      g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM conversations"), ==,
                       from >= 1 ? 1 : 0);
      sqlite3_close (raw);

      g_assert_cmpint (ponder_history_add_model (history, m, &error), >, 0);
      g_assert_no_error (error);
      list = ponder_history_list_models (history, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (list->len, ==, 1);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add (name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/history/models/add-list-remove", test_add_list_remove);
  ADD ("/history/models/errors", test_errors);
  ADD ("/history/models/migrations", test_migrations);
#undef ADD

  return g_test_run ();
}
