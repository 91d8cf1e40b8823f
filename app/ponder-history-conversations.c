/* ponder-history-conversations.c — creating, listing, renaming, deleting conversations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ponder-history"

#include <string.h>

#include <glib/gi18n.h>

#include "ponder-history-private.h"

gint64
_ponder_history_insert_conversation (PonderHistory  *self,
                                     const char     *title,
                                     gint64          created_us,
                                     gint64          updated_us,
                                     GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  stmt = _ponder_history_prepare (self,
                                  "INSERT INTO conversations (title, created_us, updated_us) "
                                  "VALUES (?1, ?2, ?3)",
                                  error);
  if (stmt == NULL)
    return 0;

  sqlite3_bind_text (stmt, 1, title ? title : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, created_us);
  sqlite3_bind_int64 (stmt, 3, updated_us);
  if (!_ponder_history_step_done (self, stmt, error))
    return 0;

  return sqlite3_last_insert_rowid (self->db);
}

/**
 * ponder_history_create_conversation:
 * @model: (nullable): the model it starts with
 *
 * Creates an empty conversation with R1's recommended settings.
 *
 * Returns: its id, or 0 with @error set
 */
gint64
ponder_history_create_conversation (PonderHistory  *self,
                                    const char     *title,
                                    const char     *model,
                                    GError        **error)
{
  PonderHistorySampling sampling;
  gint64 now = g_get_real_time ();
  gint64 id;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), 0);

  if (!_ponder_history_begin (self, error))
    return 0;

  ponder_history_sampling_init_default (&sampling);
  id = _ponder_history_insert_conversation (self, title, now, now, error);
  if (id == 0 ||
      !ponder_history_set_conversation_settings (self, id, model, NULL, &sampling, error) ||
      !_ponder_history_commit (self, error))
    {
      _ponder_history_rollback (self);
      return 0;
    }

  return id;
}

/**
 * ponder_history_get_conversation:
 *
 * Returns: (transfer full): the live conversation, or %NULL with @error set
 *   (%PONDER_HISTORY_ERROR_NOT_FOUND when it does not exist or is deleted)
 */
PonderHistoryConversation *
ponder_history_get_conversation (PonderHistory  *self,
                                 gint64          conversation_id,
                                 GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  stmt = _ponder_history_prepare (self,
                                  "SELECT " PONDER_HISTORY_CONVERSATION_COLUMNS
                                  " FROM conversations WHERE id = ?1 AND deleted = 0",
                                  error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return _ponder_history_read_conversation (stmt, 0);

  if (rc == SQLITE_DONE)
    _ponder_history_set_not_found (error, "conversation", conversation_id);
  else
    _ponder_history_set_error (self, error, rc, "read a conversation");
  return NULL;
}

/**
 * ponder_history_list_conversations:
 * @limit: the most to return; 0 for all
 *
 * Returns: (transfer full) (element-type PonderHistoryConversation): live
 *   conversations, most recently updated first; %NULL with @error set
 */
GPtrArray *
ponder_history_list_conversations (PonderHistory  *self,
                                   guint           limit,
                                   GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  g_autoptr(GPtrArray) list = NULL;
  int rc;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  stmt = _ponder_history_prepare (self,
                                  "SELECT " PONDER_HISTORY_CONVERSATION_COLUMNS
                                  " FROM conversations WHERE deleted = 0"
                                  " ORDER BY updated_us DESC, id DESC LIMIT ?1",
                                  error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, limit ? (gint64) limit : -1);
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) ponder_history_conversation_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, _ponder_history_read_conversation (stmt, 0));

  if (rc != SQLITE_DONE)
    {
      _ponder_history_set_error (self, error, rc, "list conversations");
      return NULL;
    }

  return g_steal_pointer (&list);
}

/* Runs a one-row UPDATE whose ?1 is an id; NOT_FOUND when it changed nothing. */
static gboolean
update_one (PonderHistory  *self,
            sqlite3_stmt   *stmt,
            const char     *what,
            gint64          id,
            GError        **error)
{
  if (!_ponder_history_step_done (self, stmt, error))
    return FALSE;

  if (sqlite3_changes (self->db) == 0)
    {
      _ponder_history_set_not_found (error, what, id);
      return FALSE;
    }

  return TRUE;
}

gboolean
ponder_history_rename_conversation (PonderHistory  *self,
                                    gint64          conversation_id,
                                    const char     *title,
                                    GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (title != NULL, FALSE);

  stmt = _ponder_history_prepare (self,
                                  "UPDATE conversations SET title = ?2, updated_us = ?3"
                                  " WHERE id = ?1 AND deleted = 0",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  sqlite3_bind_text (stmt, 2, title, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  return update_one (self, stmt, "conversation", conversation_id, error);
}

/**
 * ponder_history_set_conversation_settings:
 * @model: (nullable): the conversation's model
 * @system_prompt: (nullable): %NULL or "" for none
 */
gboolean
ponder_history_set_conversation_settings (PonderHistory               *self,
                                          gint64                       conversation_id,
                                          const char                  *model,
                                          const char                  *system_prompt,
                                          const PonderHistorySampling *s,
                                          GError                     **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (s != NULL, FALSE);

  stmt = _ponder_history_prepare (self,
                                  "UPDATE conversations SET model = ?2, system_prompt = ?3,"
                                  " temperature = ?4, top_p = ?5, top_k = ?6, min_p = ?7,"
                                  " repeat_penalty = ?8, max_tokens = ?9, seed = ?10,"
                                  " reasoning_budget = ?11, skip_reasoning = ?12"
                                  " WHERE id = ?1 AND deleted = 0",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  sqlite3_bind_text (stmt, 2, model, -1, SQLITE_TRANSIENT);
  if (system_prompt != NULL && system_prompt[0] != '\0')
    sqlite3_bind_text (stmt, 3, system_prompt, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double (stmt, 4, s->temperature);
  sqlite3_bind_double (stmt, 5, s->top_p);
  sqlite3_bind_int (stmt, 6, s->top_k);
  sqlite3_bind_double (stmt, 7, s->min_p);
  sqlite3_bind_double (stmt, 8, s->repeat_penalty);
  sqlite3_bind_int (stmt, 9, s->max_tokens);
  sqlite3_bind_int64 (stmt, 10, s->seed);
  sqlite3_bind_int (stmt, 11, s->reasoning_budget);
  sqlite3_bind_int (stmt, 12, s->skip_reasoning ? 1 : 0);
  return update_one (self, stmt, "conversation", conversation_id, error);
}

/**
 * ponder_history_delete_conversation:
 *
 * Hides the conversation (an "undo" toast can call
 * ponder_history_undelete_conversation()); ponder_history_purge() removes it.
 */
gboolean
ponder_history_delete_conversation (PonderHistory  *self,
                                    gint64          conversation_id,
                                    GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  stmt = _ponder_history_prepare (self,
                                  "UPDATE conversations SET deleted = 1"
                                  " WHERE id = ?1 AND deleted = 0",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  return update_one (self, stmt, "conversation", conversation_id, error);
}

gboolean
ponder_history_undelete_conversation (PonderHistory  *self,
                                      gint64          conversation_id,
                                      GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  stmt = _ponder_history_prepare (self,
                                  "UPDATE conversations SET deleted = 0"
                                  " WHERE id = ?1 AND deleted != 0",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  return update_one (self, stmt, "deleted conversation", conversation_id, error);
}

/**
 * ponder_history_purge_conversation:
 *
 * Removes a deleted conversation for good (its undo toast has gone); a live
 * one is left alone.
 */
gboolean
ponder_history_purge_conversation (PonderHistory  *self,
                                   gint64          conversation_id,
                                   GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  stmt = _ponder_history_prepare (self,
                                  "DELETE FROM conversations WHERE id = ?1 AND deleted != 0",
                                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, conversation_id);
  return _ponder_history_step_done (self, stmt, error);
}

/**
 * ponder_history_purge:
 *
 * Removes for good every deleted conversation and message (the undo window
 * is over, e.g. when the toast is dismissed or at start-up).
 */
gboolean
ponder_history_purge (PonderHistory  *self,
                      GError        **error)
{
  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  if (!_ponder_history_begin (self, error))
    return FALSE;

  if (!_ponder_history_exec (self,
                             "DELETE FROM messages WHERE deleted != 0;"
                             "DELETE FROM conversations WHERE deleted != 0;",
                             error))
    {
      _ponder_history_rollback (self);
      return FALSE;
    }

  return _ponder_history_commit (self, error);
}
