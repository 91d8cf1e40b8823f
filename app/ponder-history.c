/* ponder-history.c — opening, schema migrations, errors, conversations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ponder-history"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <glib/gi18n.h>

#include "ponder-history-private.h"
#include "ponder-schema-resources.h"

G_DEFINE_QUARK (ponder-history-error, ponder_history_error)

G_DEFINE_FINAL_TYPE (PonderHistory, ponder_history, G_TYPE_OBJECT)

/* One file per schema version, in order; entry i takes the database from
 * version i to version i + 1. */
static const char * const schema_files[] = {
  "/org/ponder/Ponder/schema/001-initial.sql",
  "/org/ponder/Ponder/schema/002-search.sql",
  "/org/ponder/Ponder/schema/003-models.sql",
};

G_STATIC_ASSERT (G_N_ELEMENTS (schema_files) == PONDER_HISTORY_SCHEMA_VERSION);

static void
finalize_statement (gpointer data)
{
  sqlite3_finalize (data);
}

static PonderHistoryError
error_code_for_sqlite (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return PONDER_HISTORY_ERROR_BUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return PONDER_HISTORY_ERROR_CORRUPT;
    case SQLITE_READONLY:
      return PONDER_HISTORY_ERROR_READ_ONLY;
    case SQLITE_FULL:
      return PONDER_HISTORY_ERROR_DISK_FULL;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return PONDER_HISTORY_ERROR_CANT_OPEN;
    case SQLITE_IOERR:
      return PONDER_HISTORY_ERROR_IO;
    default:
      return PONDER_HISTORY_ERROR_FAILED;
    }
}

static char *
describe_error (PonderHistoryError code,
                const char        *path)
{
  switch (code)
    {
    case PONDER_HISTORY_ERROR_BUSY:
      return g_strdup_printf (_("The conversation history “%s” is locked by another program. "
                                "Close other copies of Ponder and try again."), path);
    case PONDER_HISTORY_ERROR_CORRUPT:
      return g_strdup_printf (_("The conversation history “%s” is damaged or is not a Ponder "
                                "history. It was left untouched; move it aside to start a new "
                                "history."), path);
    case PONDER_HISTORY_ERROR_READ_ONLY:
      return g_strdup_printf (_("The conversation history “%s” cannot be changed: the file or "
                                "its folder is read-only."), path);
    case PONDER_HISTORY_ERROR_DISK_FULL:
      return g_strdup_printf (_("The conversation history “%s” cannot be saved: the disk is "
                                "full. Free some space and try again."), path);
    case PONDER_HISTORY_ERROR_CANT_OPEN:
      return g_strdup_printf (_("The conversation history “%s” cannot be opened. Check that "
                                "its folder exists and that you may write to it."), path);
    case PONDER_HISTORY_ERROR_IO:
      return g_strdup_printf (_("The disk reported an error while reading or writing the "
                                "conversation history “%s”."), path);
    case PONDER_HISTORY_ERROR_FAILED:
    case PONDER_HISTORY_ERROR_TOO_NEW:
    case PONDER_HISTORY_ERROR_NOT_FOUND:
    case PONDER_HISTORY_ERROR_INVALID:
    default:
      return g_strdup_printf (_("The conversation history “%s” reported an error."), path);
    }
}

void
_ponder_history_set_error (PonderHistory  *self,
                           GError        **error,
                           int             rc,
                           const char     *what)
{
  PonderHistoryError code = error_code_for_sqlite (rc);
  g_autofree char *message = describe_error (code, self->path);
  const char *detail = self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc);

  g_debug ("%s failed: %s (%d)", what, detail, rc);
  g_set_error (error, PONDER_HISTORY_ERROR, code, "%s (%s: %s)", message, what, detail);
}

void
_ponder_history_set_not_found (GError     **error,
                               const char  *what,
                               gint64       id)
{
  g_set_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_NOT_FOUND,
               _("There is no %s with id %lld in the history."), what, (long long) id);
}

sqlite3 *
_ponder_history_get_db (PonderHistory *self)
{
  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  return self->db;
}

/* @sql must be a string literal: it is the cache key. */
sqlite3_stmt *
_ponder_history_prepare (PonderHistory  *self,
                         const char     *sql,
                         GError        **error)
{
  sqlite3_stmt *stmt;
  int rc;

  stmt = g_hash_table_lookup (self->statements, sql);
  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }

  rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      _ponder_history_set_error (self, error, rc, "prepare");
      return NULL;
    }

  g_hash_table_insert (self->statements, (gpointer) sql, stmt);
  return stmt;
}

gboolean
_ponder_history_step_done (PonderHistory  *self,
                           sqlite3_stmt   *stmt,
                           GError        **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      _ponder_history_set_error (self, error, rc, "write");
      sqlite3_reset (stmt);
      return FALSE;
    }

  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
_ponder_history_exec (PonderHistory  *self,
                      const char     *sql,
                      GError        **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      _ponder_history_set_error (self, error, rc, "exec");
      return FALSE;
    }

  return TRUE;
}

/* IMMEDIATE takes the write lock at once, so a busy database fails here,
 * after the busy timeout, rather than half-way through a change. Inside a
 * transaction someone else opened, a savepoint nests instead. */
gboolean
_ponder_history_begin (PonderHistory  *self,
                       GError        **error)
{
  if (sqlite3_get_autocommit (self->db))
    return _ponder_history_exec (self, "BEGIN IMMEDIATE", error);

  if (!_ponder_history_exec (self, "SAVEPOINT ponder_nested", error))
    return FALSE;
  self->savepoint_depth++;
  return TRUE;
}

gboolean
_ponder_history_commit (PonderHistory  *self,
                        GError        **error)
{
  const char *sql = self->savepoint_depth > 0 ? "RELEASE ponder_nested" : "COMMIT";

  if (!_ponder_history_exec (self, sql, error))
    {
      _ponder_history_rollback (self);
      return FALSE;
    }

  if (self->savepoint_depth > 0)
    self->savepoint_depth--;
  return TRUE;
}

void
_ponder_history_rollback (PonderHistory *self)
{
  if (self->savepoint_depth > 0)
    {
      sqlite3_exec (self->db, "ROLLBACK TO ponder_nested; RELEASE ponder_nested", NULL, NULL, NULL);
      self->savepoint_depth--;
    }
  else if (!sqlite3_get_autocommit (self->db))
    {
      sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

static gboolean
read_user_version (PonderHistory  *self,
                   int            *out_version,
                   GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  if (!(stmt = _ponder_history_prepare (self, "PRAGMA user_version", error)))
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      _ponder_history_set_error (self, error, rc, "read the schema version");
      return FALSE;
    }

  *out_version = sqlite3_column_int (stmt, 0);
  return TRUE;
}

static gboolean
apply_schema_step (PonderHistory  *self,
                   int             to_version,
                   GError        **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *sql = NULL;
  gsize size;
  const char *data;
  int rc;

  bytes = g_resource_lookup_data (ponder_schema_get_resource (), schema_files[to_version - 1],
                                  G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (bytes == NULL)
    return FALSE;

  data = g_bytes_get_data (bytes, &size);
  sql = g_strndup (data, size);
  rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, PONDER_HISTORY_ERROR, error_code_for_sqlite (rc),
                   _("The conversation history “%s” could not be upgraded to schema version "
                     "%d and was left as it was (%s)."),
                   self->path, to_version, sqlite3_errmsg (self->db));
      return FALSE;
    }

  return TRUE;
}

/* Brings the schema up to PONDER_HISTORY_SCHEMA_VERSION in one transaction:
 * a crash half-way leaves the old version intact. */
static gboolean
migrate (PonderHistory  *self,
         GError        **error)
{
  g_autofree char *set_version = NULL;
  int version;

  if (!read_user_version (self, &version, error))
    return FALSE;

  if (version == PONDER_HISTORY_SCHEMA_VERSION)
    return TRUE;

  if (!_ponder_history_begin (self, error))
    return FALSE;

  /* Another process may have migrated while we waited for the lock. */
  if (!read_user_version (self, &version, error))
    goto failed;

  if (version > PONDER_HISTORY_SCHEMA_VERSION || version < 0)
    {
      g_set_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_TOO_NEW,
                   _("The conversation history “%s” was written by a newer version of Ponder "
                     "(schema %d; this version reads up to %d). Update Ponder to open it."),
                   self->path, version, PONDER_HISTORY_SCHEMA_VERSION);
      goto failed;
    }

  for (int v = version + 1; v <= PONDER_HISTORY_SCHEMA_VERSION; v++)
    {
      g_debug ("Migrating %s to schema version %d", self->path, v);
      if (!apply_schema_step (self, v, error))
        goto failed;
    }

  /* PRAGMA takes no bound parameters; the value is our own constant. */
  set_version = g_strdup_printf ("PRAGMA user_version = %d", PONDER_HISTORY_SCHEMA_VERSION);
  if (!_ponder_history_exec (self, set_version, error))
    goto failed;

  return _ponder_history_commit (self, error);

failed:
  _ponder_history_rollback (self);
  return FALSE;
}

static gboolean
configure_connection (PonderHistory  *self,
                      GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  /* WAL lets the sidebar read while an answer is being saved, and a crash
   * loses at most the transactions not yet in the log. */
  if (!(stmt = _ponder_history_prepare (self, "PRAGMA journal_mode = WAL", error)))
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      _ponder_history_set_error (self, error, rc, "switch to WAL mode");
      return FALSE;
    }

  if (g_ascii_strcasecmp ((const char *) sqlite3_column_text (stmt, 0), "wal") != 0)
    g_debug ("%s stays in journal mode %s", self->path, sqlite3_column_text (stmt, 0));

  /* synchronous = NORMAL is safe in WAL mode against a killed process: a
   * committed transaction is in the log file even if it was never synced.
   * Only a power cut can lose the last transactions, never corrupt the file. */
  return _ponder_history_exec (self,
                               "PRAGMA foreign_keys = ON;"
                               "PRAGMA synchronous = NORMAL;",
                               error);
}

static void
ponder_history_finalize (GObject *object)
{
  PonderHistory *self = (PonderHistory *)object;

  g_clear_pointer (&self->statements, g_hash_table_unref);
  if (self->db != NULL)
    {
      sqlite3_close_v2 (self->db);
      self->db = NULL;
    }
  g_clear_pointer (&self->path, g_free);

  G_OBJECT_CLASS (ponder_history_parent_class)->finalize (object);
}

static void
ponder_history_class_init (PonderHistoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ponder_history_finalize;
}

static void
ponder_history_init (PonderHistory *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, finalize_statement);
}

/**
 * ponder_history_dup_default_path:
 *
 * Returns: (transfer full): $XDG_DATA_HOME/ponder/history.db
 */
char *
ponder_history_dup_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "ponder", "history.db", NULL);
}

/**
 * ponder_history_new:
 * @path: (nullable): the database file, or %NULL for the default path
 * @busy_timeout_ms: how long to wait for another connection's lock; 0 for
 *   %PONDER_HISTORY_DEFAULT_BUSY_TIMEOUT_MS
 *
 * Opens (creating if needed) the history and migrates its schema. A damaged
 * file is never changed: the error is %PONDER_HISTORY_ERROR_CORRUPT, and the
 * caller may offer ponder_history_move_aside().
 *
 * Returns: (transfer full): the history, or %NULL with @error set
 */
PonderHistory *
ponder_history_new (const char  *path,
                    guint        busy_timeout_ms,
                    GError     **error)
{
  g_autoptr(PonderHistory) self = NULL;
  g_autofree char *default_path = NULL;
  g_autofree char *dir = NULL;
  int rc;

  if (path == NULL)
    path = default_path = ponder_history_dup_default_path ();

  self = g_object_new (PONDER_TYPE_HISTORY, NULL);
  self->path = g_strdup (path);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_CANT_OPEN,
                   _("Cannot create the folder “%s” for the conversation history: %s"),
                   dir, g_strerror (errsv));
      return NULL;
    }

  rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK)
    {
      _ponder_history_set_error (self, error, rc, "open");
      return NULL;
    }

  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, busy_timeout_ms ? (int) busy_timeout_ms
                                                  : PONDER_HISTORY_DEFAULT_BUSY_TIMEOUT_MS);

  if (!configure_connection (self, error) || !migrate (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

typedef struct
{
  char  *path;
  guint  busy_timeout_ms;
} OpenData;

static void
open_data_free (gpointer data)
{
  OpenData *d = data;

  g_free (d->path);
  g_free (d);
}

static void
open_thread_cb (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  OpenData *d = task_data;
  GError *error = NULL;
  PonderHistory *history = ponder_history_new (d->path, d->busy_timeout_ms, &error);

  if (history == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, history, g_object_unref);
}

/**
 * ponder_history_new_async:
 *
 * Opens and migrates the history on a worker thread (a migration of a large
 * history, or waiting out another program's lock, must not freeze the
 * window). The result may then be used from the thread that finishes it.
 */
void
ponder_history_new_async (const char          *path,
                          guint                busy_timeout_ms,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpenData *d = g_new0 (OpenData, 1);

  d->path = g_strdup (path);
  d->busy_timeout_ms = busy_timeout_ms;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ponder_history_new_async);
  g_task_set_name (task, "[ponder-history-open]");
  g_task_set_task_data (task, d, open_data_free);
  g_task_run_in_thread (task, open_thread_cb);
}

/**
 * ponder_history_new_finish:
 *
 * Returns: (transfer full): the history, or %NULL with @error set as for
 *   ponder_history_new()
 */
PonderHistory *
ponder_history_new_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
ponder_history_get_path (PonderHistory *self)
{
  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  return self->path;
}

static gboolean
rename_if_present (const char  *from,
                   const char  *to,
                   GError     **error)
{
  if (g_rename (from, to) == 0 || errno == ENOENT)
    return TRUE;

  g_set_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_CANT_OPEN,
               _("Cannot move “%s” to “%s”: %s"), from, to, g_strerror (errno));
  return FALSE;
}

/**
 * ponder_history_move_aside:
 * @path: (nullable): the damaged database, or %NULL for the default path
 * @out_new_path: (out) (optional): where it went
 *
 * Renames a damaged history to `history.db.corrupt-<timestamp>` (with its
 * -wal and -shm files, which must not be replayed into a new database), so
 * that the next ponder_history_new() starts fresh. Nothing is deleted.
 */
gboolean
ponder_history_move_aside (const char  *path,
                           char       **out_new_path,
                           GError     **error)
{
  g_autofree char *default_path = NULL;
  g_autofree char *stamp = NULL;
  g_autofree char *target = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  static const char * const suffixes[] = { "-wal", "-shm" };

  if (path == NULL)
    path = default_path = ponder_history_dup_default_path ();

  stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
  target = g_strdup_printf ("%s.corrupt-%s", path, stamp);
  for (guint n = 2; g_file_test (target, G_FILE_TEST_EXISTS); n++)
    {
      g_free (target);
      target = g_strdup_printf ("%s.corrupt-%s-%u", path, stamp, n);
    }

  if (g_rename (path, target) != 0)
    {
      g_set_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_CANT_OPEN,
                   _("Cannot move “%s” to “%s”: %s"), path, target, g_strerror (errno));
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *from = g_strconcat (path, suffixes[i], NULL);
      g_autofree char *to = g_strconcat (target, suffixes[i], NULL);

      if (!rename_if_present (from, to, error))
        return FALSE;
    }

  if (out_new_path != NULL)
    *out_new_path = g_steal_pointer (&target);
  return TRUE;
}
