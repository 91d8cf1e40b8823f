/* history-test-util.h — small helpers shared by the history tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The checks read the database through a separate raw SQLite connection
 * where they can, so they do not trust the store's own queries.
 */

#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

/* A fresh folder for one test's database; removed by the caller's
 * history_test_dir_free. */
static inline char *
history_test_dir_new (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("ponder-history-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static inline void
history_test_dir_free (char *dir)
{
  const char *name;
  GDir *d = g_dir_open (dir, 0, NULL);

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

static inline sqlite3 *
history_test_raw_open (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  return db;
}

/* The first column of the first row of @sql, as an integer. */
static inline gint64
history_test_raw_int (sqlite3    *db,
                      const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static inline char *
history_test_raw_text (sqlite3    *db,
                       const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *value;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return value;
}

static inline void
history_test_raw_exec (sqlite3    *db,
                       const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

/* Brings a raw database to schema @version by running the SQL file of that
 * version from the source tree (never through the store), so migration
 * tests start from what an older Ponder really wrote. */
static inline void
history_test_apply_source_schema (sqlite3 *raw,
                                  guint    version)
{
  static const char * const files[] = { "001-initial.sql", "002-search.sql", "003-models.sql" };
  const char *root = g_getenv ("PONDER_SOURCE_ROOT");
  g_autofree char *sql = NULL;
  g_autofree char *path = NULL;
  g_autofree char *set = NULL;

  g_assert_nonnull (root);
  g_assert_cmpuint (version, >=, 1);
  g_assert_cmpuint (version, <=, G_N_ELEMENTS (files));
  path = g_build_filename (root, "data", "schema", files[version - 1], NULL);
  g_assert_true (g_file_get_contents (path, &sql, NULL, NULL));
  history_test_raw_exec (raw, sql);
  set = g_strdup_printf ("PRAGMA user_version = %u", version);
  history_test_raw_exec (raw, set);
}
