/* ponder-history-models.c — the model library: imported GGUF files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One row per file path (schema 003-models.sql). The descriptive columns are
 * what the engine read from the file's metadata at import, so the library
 * lists models without opening them and still lists a file that has gone.
 */

#define G_LOG_DOMAIN "ponder-history"

#include <glib/gi18n.h>

#include "ponder-history-private.h"

#define MODEL_COLUMNS \
  "id, path, name, architecture, n_params, file_type, file_size, n_ctx_train, n_ctx, " \
  "added_us, last_used_us"

PonderHistoryModel *
ponder_history_model_new (const char *path)
{
  PonderHistoryModel *model = g_new0 (PonderHistoryModel, 1);

  model->path = g_strdup (path != NULL ? path : "");
  model->name = g_strdup ("");
  model->architecture = g_strdup ("");
  model->file_type = g_strdup ("");
  return model;
}

void
ponder_history_model_free (PonderHistoryModel *model)
{
  if (model == NULL)
    return;
  g_free (model->path);
  g_free (model->name);
  g_free (model->architecture);
  g_free (model->file_type);
  g_free (model);
}

static char *
dup_text (sqlite3_stmt *stmt,
          int           column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);

  return g_strdup (text != NULL ? text : "");
}

static PonderHistoryModel *
read_model (sqlite3_stmt *stmt)
{
  PonderHistoryModel *model = g_new0 (PonderHistoryModel, 1);

  model->id = sqlite3_column_int64 (stmt, 0);
  model->path = dup_text (stmt, 1);
  model->name = dup_text (stmt, 2);
  model->architecture = dup_text (stmt, 3);
  model->n_params = (guint64) sqlite3_column_int64 (stmt, 4);
  model->file_type = dup_text (stmt, 5);
  model->file_size_bytes = (guint64) sqlite3_column_int64 (stmt, 6);
  model->n_ctx_train = (guint) CLAMP (sqlite3_column_int64 (stmt, 7), 0, G_MAXUINT);
  model->n_ctx = (guint) CLAMP (sqlite3_column_int64 (stmt, 8), 0, G_MAXUINT);
  model->added_us = sqlite3_column_int64 (stmt, 9);
  model->last_used_us = sqlite3_column_int64 (stmt, 10);
  return model;
}

/**
 * ponder_history_add_model:
 * @model: what was read from the file; its id, times and context are ignored
 *
 * Remembers a model. Importing a path that is already in the library
 * refreshes what is known about the file and keeps its id, its chosen
 * context length and when it was last used.
 *
 * Returns: the model's id, or 0 with @error set
 */
gint64
ponder_history_add_model (PonderHistory             *self,
                          const PonderHistoryModel  *model,
                          GError                   **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  g_autoptr(PonderHistoryModel) stored = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), 0);
  g_return_val_if_fail (model != NULL, 0);

  if (model->path == NULL || model->path[0] == '\0')
    {
      g_set_error_literal (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_INVALID,
                           _("A model needs the path of its file."));
      return 0;
    }

  stmt = _ponder_history_prepare (self,
                                  "INSERT INTO models (path, name, architecture, n_params, "
                                  "file_type, file_size, n_ctx_train, added_us) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                                  "ON CONFLICT (path) DO UPDATE SET name = excluded.name, "
                                  "architecture = excluded.architecture, "
                                  "n_params = excluded.n_params, file_type = excluded.file_type, "
                                  "file_size = excluded.file_size, "
                                  "n_ctx_train = excluded.n_ctx_train",
                                  error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, model->path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, model->name ? model->name : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, model->architecture ? model->architecture : "", -1,
                     SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) MIN (model->n_params, (guint64) G_MAXINT64));
  sqlite3_bind_text (stmt, 5, model->file_type ? model->file_type : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, (sqlite3_int64) MIN (model->file_size_bytes,
                                                    (guint64) G_MAXINT64));
  sqlite3_bind_int64 (stmt, 7, model->n_ctx_train);
  sqlite3_bind_int64 (stmt, 8, g_get_real_time ());
  if (!_ponder_history_step_done (self, stmt, error))
    return 0;

  /* last_insert_rowid is not set by the update branch of an upsert. */
  stored = ponder_history_find_model (self, model->path, error);
  return stored != NULL ? stored->id : 0;
}

/**
 * ponder_history_get_model:
 *
 * Returns: (transfer full): the model, or %NULL with @error set
 *   (%PONDER_HISTORY_ERROR_NOT_FOUND when the library has no such model)
 */
PonderHistoryModel *
ponder_history_get_model (PonderHistory  *self,
                          gint64          model_id,
                          GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  stmt = _ponder_history_prepare (self, "SELECT " MODEL_COLUMNS " FROM models WHERE id = ?1",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, model_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return read_model (stmt);
  if (rc == SQLITE_DONE)
    _ponder_history_set_not_found (error, "model", model_id);
  else
    _ponder_history_set_error (self, error, rc, "read a model");
  return NULL;
}

/**
 * ponder_history_find_model:
 *
 * Returns: (transfer full) (nullable): the model imported from @path, or
 *   %NULL, with @error set only when the database failed
 */
PonderHistoryModel *
ponder_history_find_model (PonderHistory  *self,
                           const char     *path,
                           GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  stmt = _ponder_history_prepare (self, "SELECT " MODEL_COLUMNS " FROM models WHERE path = ?1",
                                  error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, path, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return read_model (stmt);
  if (rc != SQLITE_DONE)
    _ponder_history_set_error (self, error, rc, "find a model");
  return NULL;
}

/**
 * ponder_history_list_models:
 *
 * Returns: (transfer container) (element-type PonderHistoryModel): the
 *   library, the most recently loaded first, then the newest imports
 */
GPtrArray *
ponder_history_list_models (PonderHistory  *self,
                            GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  g_autoptr(GPtrArray) models = NULL;
  int rc;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  stmt = _ponder_history_prepare (self,
                                  "SELECT " MODEL_COLUMNS " FROM models "
                                  "ORDER BY last_used_us DESC, added_us DESC, id DESC",
                                  error);
  if (stmt == NULL)
    return NULL;
  models = g_ptr_array_new_with_free_func ((GDestroyNotify) ponder_history_model_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (models, read_model (stmt));
  if (rc != SQLITE_DONE)
    {
      _ponder_history_set_error (self, error, rc, "list the models");
      return NULL;
    }
  return g_steal_pointer (&models);
}

static gboolean
update_one (PonderHistory  *self,
            sqlite3_stmt   *stmt,
            gint64          model_id,
            GError        **error)
{
  if (!_ponder_history_step_done (self, stmt, error))
    return FALSE;
  if (sqlite3_changes (self->db) == 0)
    {
      _ponder_history_set_not_found (error, "model", model_id);
      return FALSE;
    }
  return TRUE;
}

/* Marks the model as just loaded: it moves to the top of the list. */
gboolean
ponder_history_touch_model (PonderHistory  *self,
                            gint64          model_id,
                            GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  /* Two loads within one clock tick must still order by recency. */
  stmt = _ponder_history_prepare (self,
                                  "UPDATE models SET last_used_us = MAX (?2, (SELECT "
                                  "COALESCE (MAX (last_used_us), 0) + 1 FROM models)) "
                                  "WHERE id = ?1",
                                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, model_id);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time ());
  return update_one (self, stmt, model_id, error);
}

gboolean
ponder_history_set_model_context (PonderHistory  *self,
                                  gint64          model_id,
                                  guint           n_ctx,
                                  GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  stmt = _ponder_history_prepare (self, "UPDATE models SET n_ctx = ?2 WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, model_id);
  sqlite3_bind_int64 (stmt, 2, n_ctx);
  return update_one (self, stmt, model_id, error);
}

/* Forgets a model. The file stays where it is; conversations that used it
 * keep its name. */
gboolean
ponder_history_remove_model (PonderHistory  *self,
                             gint64          model_id,
                             GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  stmt = _ponder_history_prepare (self, "DELETE FROM models WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, model_id);
  return update_one (self, stmt, model_id, error);
}
