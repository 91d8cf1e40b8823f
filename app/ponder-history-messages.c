/* ponder-history-messages.c — the message tree: add, stream, branch, delete
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every message has a parent (0 for the first message of a branch) and the
 * parent remembers its chosen child (for roots, the conversation does). The
 * active path starts at the chosen root and follows chosen children; when a
 * choice is missing or hidden by a delete, the newest live sibling stands in,
 * so an undo brings the old choice back unchanged.
 */

#define G_LOG_DOMAIN "ponder-history"

#include <glib/gi18n.h>

#include "ponder-history-private.h"

/* No conversation gets anywhere near this deep; it only stops a loop should
 * a damaged file ever hold a cycle. */
#define MAX_PATH_LENGTH 1000000

static void
bind_text_or_null (sqlite3_stmt *stmt,
                   int           column,
                   const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, column, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, column);
}

static void
bind_double_or_null (sqlite3_stmt *stmt,
                     int           column,
                     double        value)
{
  if (value >= 0)
    sqlite3_bind_double (stmt, column, value);
  else
    sqlite3_bind_null (stmt, column);
}

static void
bind_int_or_null (sqlite3_stmt *stmt,
                  int           column,
                  int           value)
{
  if (value >= 0)
    sqlite3_bind_int (stmt, column, value);
  else
    sqlite3_bind_null (stmt, column);
}

/* Binds timings, counts and the complete flag to ?first .. ?first+6. */
static void
bind_results (sqlite3_stmt               *stmt,
              int                         first,
              const PonderHistoryMessage *m)
{
  bind_double_or_null (stmt, first + 0, m->reasoning_s);
  bind_double_or_null (stmt, first + 1, m->time_to_first_token_s);
  bind_double_or_null (stmt, first + 2, m->tokens_per_s);
  bind_int_or_null (stmt, first + 3, m->n_prompt_tokens);
  bind_int_or_null (stmt, first + 4, m->n_reasoning_tokens);
  bind_int_or_null (stmt, first + 5, m->n_answer_tokens);
  sqlite3_bind_int (stmt, first + 6, m->complete ? 1 : 0);
}

static void
bind_sampling (sqlite3_stmt               *stmt,
               int                         first,
               const PonderHistoryMessage *m)
{
  const PonderHistorySampling *s = &m->sampling;

  if (!m->has_sampling)
    return;  /* left NULL */

  sqlite3_bind_double (stmt, first + 0, s->temperature);
  sqlite3_bind_double (stmt, first + 1, s->top_p);
  sqlite3_bind_int (stmt, first + 2, s->top_k);
  sqlite3_bind_double (stmt, first + 3, s->min_p);
  sqlite3_bind_double (stmt, first + 4, s->repeat_penalty);
  sqlite3_bind_int (stmt, first + 5, s->max_tokens);
  sqlite3_bind_int64 (stmt, first + 6, s->seed);
  sqlite3_bind_int (stmt, first + 7, s->reasoning_budget);
  sqlite3_bind_int (stmt, first + 8, s->skip_reasoning ? 1 : 0);
}

/* Looks up a live message: its conversation and parent. FALSE with
 * NOT_FOUND when it is missing, hidden, or its conversation is. */
static gboolean
lookup_live_message (PonderHistory  *self,
                     gint64          message_id,
                     gint64         *out_conversation_id,
                     gint64         *out_parent_id,
                     GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  stmt = _ponder_history_prepare (self,
                                  "SELECT m.conversation_id, m.parent_id FROM messages m"
                                  " JOIN conversations c ON c.id = m.conversation_id"
                                  " WHERE m.id = ?1 AND m.deleted = 0 AND c.deleted = 0",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, message_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      if (out_conversation_id != NULL)
        *out_conversation_id = sqlite3_column_int64 (stmt, 0);
      if (out_parent_id != NULL)
        *out_parent_id = sqlite3_column_int64 (stmt, 1);
      return TRUE;
    }

  if (rc == SQLITE_DONE)
    _ponder_history_set_not_found (error, "message", message_id);
  else
    _ponder_history_set_error (self, error, rc, "read a message");
  return FALSE;
}

static gboolean
touch_conversation (PonderHistory  *self,
                    gint64          conversation_id,
                    GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  stmt = _ponder_history_prepare (self,
                                  "UPDATE conversations SET updated_us = max(updated_us, ?2)"
                                  " WHERE id = ?1",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  sqlite3_bind_int64 (stmt, 2, g_get_real_time ());
  return _ponder_history_step_done (self, stmt, error);
}

gboolean
_ponder_history_set_active_child (PonderHistory  *self,
                                  gint64          conversation_id,
                                  gint64          parent_id,
                                  gint64          child_id,
                                  GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  if (parent_id == 0)
    {
      stmt = _ponder_history_prepare (self,
                                      "UPDATE conversations SET active_root_id = ?2 WHERE id = ?1",
                                      error);
      if (stmt != NULL)
        sqlite3_bind_int64 (stmt, 1, conversation_id);
    }
  else
    {
      stmt = _ponder_history_prepare (self,
                                      "UPDATE messages SET active_child_id = ?2 WHERE id = ?1",
                                      error);
      if (stmt != NULL)
        sqlite3_bind_int64 (stmt, 1, parent_id);
    }

  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 2, child_id);
  return _ponder_history_step_done (self, stmt, error);
}

/* Inserts a row and makes it its parent's chosen child. The caller holds a
 * transaction and has checked the parent. */
gint64
_ponder_history_insert_message (PonderHistory              *self,
                                gint64                      conversation_id,
                                gint64                      parent_id,
                                const PonderHistoryMessage *m,
                                GError                    **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  gint64 id;

  stmt = _ponder_history_prepare (self,
                                  "INSERT INTO messages (conversation_id, parent_id, role,"
                                  " content, reasoning, model, temperature, top_p, top_k, min_p,"
                                  " repeat_penalty, max_tokens, seed, reasoning_budget,"
                                  " skip_reasoning, reasoning_s, ttft_s, tokens_per_s,"
                                  " n_prompt_tokens, n_reasoning_tokens, n_answer_tokens,"
                                  " complete, reasoning_expanded, created_us)"
                                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
                                  " ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
                                  error);
  if (stmt == NULL)
    return 0;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  if (parent_id != 0)
    sqlite3_bind_int64 (stmt, 2, parent_id);
  sqlite3_bind_text (stmt, 3, ponder_history_role_to_string (m->role), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, m->content ? m->content : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, m->reasoning ? m->reasoning : "", -1, SQLITE_TRANSIENT);
  bind_text_or_null (stmt, 6, m->model);
  bind_sampling (stmt, 7, m);
  bind_results (stmt, 16, m);
  sqlite3_bind_int (stmt, 23, m->reasoning_expanded ? 1 : 0);
  sqlite3_bind_int64 (stmt, 24, m->created_us > 0 ? m->created_us : g_get_real_time ());
  if (!_ponder_history_step_done (self, stmt, error))
    return 0;

  id = sqlite3_last_insert_rowid (self->db);
  if (!_ponder_history_set_active_child (self, conversation_id, parent_id, id, error))
    return 0;

  return id;
}

/**
 * ponder_history_add_message:
 * @parent_id: the message it answers or follows; 0 for a first message
 * @message: role, text and results to store (its id, conversation_id,
 *   parent_id and sibling fields are ignored)
 *
 * Adds a message under @parent_id and makes it the chosen child there.
 * Editing a user message or regenerating an answer is adding a sibling:
 * nothing is overwritten. Pass complete = FALSE for an answer about to
 * stream, then call ponder_history_update_partial() as it grows.
 *
 * Returns: the new id, or 0 with @error set
 */
gint64
ponder_history_add_message (PonderHistory               *self,
                            gint64                       conversation_id,
                            gint64                       parent_id,
                            const PonderHistoryMessage  *message,
                            GError                     **error)
{
  g_autoptr(PonderHistoryConversation) conversation = NULL;
  gint64 parent_conversation = 0;
  gint64 id;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), 0);
  g_return_val_if_fail (message != NULL, 0);

  if (!_ponder_history_begin (self, error))
    return 0;

  if (!(conversation = ponder_history_get_conversation (self, conversation_id, error)))
    goto failed;

  if (parent_id != 0)
    {
      if (!lookup_live_message (self, parent_id, &parent_conversation, NULL, error))
        goto failed;
      if (parent_conversation != conversation_id)
        {
          g_set_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_INVALID,
                       _("Message %lld belongs to another conversation."),
                       (long long) parent_id);
          goto failed;
        }
    }

  id = _ponder_history_insert_message (self, conversation_id, parent_id, message, error);
  if (id == 0 || !touch_conversation (self, conversation_id, error) ||
      !_ponder_history_commit (self, error))
    goto failed;

  return id;

failed:
  _ponder_history_rollback (self);
  return 0;
}

/**
 * ponder_history_get_message:
 *
 * Returns: (transfer full): the live message (sibling fields not filled), or
 *   %NULL with @error set
 */
PonderHistoryMessage *
ponder_history_get_message (PonderHistory  *self,
                            gint64          message_id,
                            GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  stmt = _ponder_history_prepare (self,
                                  "SELECT " PONDER_HISTORY_MESSAGE_COLUMNS
                                  " FROM messages WHERE id = ?1 AND deleted = 0",
                                  error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, message_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return _ponder_history_read_message (stmt, 0);

  if (rc == SQLITE_DONE)
    _ponder_history_set_not_found (error, "message", message_id);
  else
    _ponder_history_set_error (self, error, rc, "read a message");
  return NULL;
}

/**
 * ponder_history_update_partial:
 * @content: the answer so far
 * @reasoning: (nullable): the reasoning so far; %NULL keeps what is stored
 *
 * Saves a growing answer. Meant to be called about once a second while the
 * model streams: it is one prepared UPDATE in its own small transaction, so a
 * crash or kill loses at most what came after the last call.
 */
gboolean
ponder_history_update_partial (PonderHistory  *self,
                               gint64          message_id,
                               const char     *content,
                               const char     *reasoning,
                               GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (content != NULL, FALSE);

  stmt = _ponder_history_prepare (self,
                                  "UPDATE messages SET content = ?2,"
                                  " reasoning = coalesce(?3, reasoning), complete = 0"
                                  " WHERE id = ?1 AND deleted = 0",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, message_id);
  sqlite3_bind_text (stmt, 2, content, -1, SQLITE_STATIC);
  if (reasoning != NULL)
    sqlite3_bind_text (stmt, 3, reasoning, -1, SQLITE_STATIC);
  if (!_ponder_history_step_done (self, stmt, error))
    return FALSE;

  /* SQLITE_STATIC is safe only while the caller's strings live. */
  sqlite3_clear_bindings (stmt);
  if (sqlite3_changes (self->db) == 0)
    {
      _ponder_history_set_not_found (error, "message", message_id);
      return FALSE;
    }

  return TRUE;
}

/**
 * ponder_history_finish_message:
 * @message: the message's id with its final text, timings, counts and
 *   complete flag (FALSE when it stopped at the token limit)
 *
 * Stores the end of a streamed answer (or a continued one). Only the
 * answer's own results change; to change what was said, add a sibling.
 */
gboolean
ponder_history_finish_message (PonderHistory               *self,
                               const PonderHistoryMessage  *message,
                               GError                     **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  gint64 conversation_id;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);
  g_return_val_if_fail (message != NULL, FALSE);

  if (!_ponder_history_begin (self, error))
    return FALSE;

  if (!lookup_live_message (self, message->id, &conversation_id, NULL, error))
    goto failed;

  stmt = _ponder_history_prepare (self,
                                  "UPDATE messages SET content = ?2, reasoning = ?3,"
                                  " reasoning_s = ?4, ttft_s = ?5, tokens_per_s = ?6,"
                                  " n_prompt_tokens = ?7, n_reasoning_tokens = ?8,"
                                  " n_answer_tokens = ?9, complete = ?10 WHERE id = ?1",
                                  error);
  if (stmt == NULL)
    goto failed;

  sqlite3_bind_int64 (stmt, 1, message->id);
  sqlite3_bind_text (stmt, 2, message->content ? message->content : "", -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, message->reasoning ? message->reasoning : "", -1,
                     SQLITE_TRANSIENT);
  bind_results (stmt, 4, message);
  if (!_ponder_history_step_done (self, stmt, error) ||
      !touch_conversation (self, conversation_id, error) ||
      !_ponder_history_commit (self, error))
    goto failed;

  return TRUE;

failed:
  _ponder_history_rollback (self);
  return FALSE;
}

gboolean
ponder_history_set_reasoning_expanded (PonderHistory  *self,
                                       gint64          message_id,
                                       gboolean        expanded,
                                       GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  stmt = _ponder_history_prepare (self,
                                  "UPDATE messages SET reasoning_expanded = ?2"
                                  " WHERE id = ?1 AND deleted = 0",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, message_id);
  sqlite3_bind_int (stmt, 2, expanded ? 1 : 0);
  if (!_ponder_history_step_done (self, stmt, error))
    return FALSE;

  if (sqlite3_changes (self->db) == 0)
    {
      _ponder_history_set_not_found (error, "message", message_id);
      return FALSE;
    }

  return TRUE;
}

/* Live children of @parent_id (0: the roots), oldest first. */
static GArray *
list_child_ids (PonderHistory  *self,
                gint64          conversation_id,
                gint64          parent_id,
                GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  int rc;

  stmt = _ponder_history_prepare (self,
                                  "SELECT id FROM messages WHERE conversation_id = ?1"
                                  " AND parent_id IS ?2 AND deleted = 0 ORDER BY id",
                                  error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  if (parent_id != 0)
    sqlite3_bind_int64 (stmt, 2, parent_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
    }

  if (rc != SQLITE_DONE)
    {
      _ponder_history_set_error (self, error, rc, "list messages");
      return NULL;
    }

  return g_steal_pointer (&ids);
}

/* The stored choice under @parent_id (0: the conversation's root), or 0. */
static gboolean
get_active_child (PonderHistory  *self,
                  gint64          conversation_id,
                  gint64          parent_id,
                  gint64         *out_child_id,
                  GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  if (parent_id == 0)
    {
      stmt = _ponder_history_prepare (self,
                                      "SELECT active_root_id FROM conversations WHERE id = ?1",
                                      error);
      if (stmt != NULL)
        sqlite3_bind_int64 (stmt, 1, conversation_id);
    }
  else
    {
      stmt = _ponder_history_prepare (self,
                                      "SELECT active_child_id FROM messages WHERE id = ?1",
                                      error);
      if (stmt != NULL)
        sqlite3_bind_int64 (stmt, 1, parent_id);
    }

  if (stmt == NULL)
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      _ponder_history_set_error (self, error, rc, "read the chosen branch");
      return FALSE;
    }

  *out_child_id = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  return TRUE;
}

/* Fetches @ids[index] with its sibling position filled in. */
static PonderHistoryMessage *
get_sibling (PonderHistory  *self,
             GArray         *ids,
             guint           index,
             GError        **error)
{
  PonderHistoryMessage *message;

  message = ponder_history_get_message (self, g_array_index (ids, gint64, index), error);
  if (message != NULL)
    {
      message->sibling_index = index;
      message->n_siblings = ids->len;
    }

  return message;
}

/**
 * ponder_history_list_active_path:
 *
 * Returns: (transfer full) (element-type PonderHistoryMessage): the messages
 *   from the chosen root down the chosen children, each with its
 *   sibling_index and n_siblings; %NULL with @error set
 */
GPtrArray *
ponder_history_list_active_path (PonderHistory  *self,
                                 gint64          conversation_id,
                                 GError        **error)
{
  g_autoptr(PonderHistoryConversation) conversation = NULL;
  g_autoptr(GPtrArray) path = NULL;
  gint64 parent_id = 0;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  if (!(conversation = ponder_history_get_conversation (self, conversation_id, error)))
    return NULL;

  path = g_ptr_array_new_with_free_func ((GDestroyNotify) ponder_history_message_free);
  while (path->len < MAX_PATH_LENGTH)
    {
      g_autoptr(GArray) ids = NULL;
      PonderHistoryMessage *message;
      gint64 chosen = 0;
      guint index;

      if (!(ids = list_child_ids (self, conversation_id, parent_id, error)))
        return NULL;
      if (ids->len == 0)
        break;
      if (!get_active_child (self, conversation_id, parent_id, &chosen, error))
        return NULL;

      /* A missing or hidden choice falls back to the newest live sibling. */
      index = ids->len - 1;
      for (guint i = 0; i < ids->len; i++)
        if (g_array_index (ids, gint64, i) == chosen)
          index = i;

      if (!(message = get_sibling (self, ids, index, error)))
        return NULL;
      g_ptr_array_add (path, message);
      parent_id = message->id;
    }

  return g_steal_pointer (&path);
}

/**
 * ponder_history_list_siblings:
 *
 * Returns: (transfer full) (element-type PonderHistoryMessage): the live
 *   messages sharing @message_id's parent, itself included, oldest first
 */
GPtrArray *
ponder_history_list_siblings (PonderHistory  *self,
                              gint64          message_id,
                              GError        **error)
{
  g_autoptr(GPtrArray) siblings = NULL;
  g_autoptr(GArray) ids = NULL;
  gint64 conversation_id;
  gint64 parent_id;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  if (!lookup_live_message (self, message_id, &conversation_id, &parent_id, error))
    return NULL;
  if (!(ids = list_child_ids (self, conversation_id, parent_id, error)))
    return NULL;

  siblings = g_ptr_array_new_with_free_func ((GDestroyNotify) ponder_history_message_free);
  for (guint i = 0; i < ids->len; i++)
    {
      PonderHistoryMessage *message = get_sibling (self, ids, i, error);

      if (message == NULL)
        return NULL;
      g_ptr_array_add (siblings, message);
    }

  return g_steal_pointer (&siblings);
}

/**
 * ponder_history_select_message:
 *
 * Makes @message_id part of the active path: it becomes its parent's chosen
 * child, and so on up to the root ("‹ 2/3 ›" arrows call this).
 */
gboolean
ponder_history_select_message (PonderHistory  *self,
                               gint64          message_id,
                               GError        **error)
{
  gint64 id = message_id;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  if (!_ponder_history_begin (self, error))
    return FALSE;

  for (guint depth = 0; id != 0 && depth < MAX_PATH_LENGTH; depth++)
    {
      gint64 conversation_id;
      gint64 parent_id;

      if (!lookup_live_message (self, id, &conversation_id, &parent_id, error) ||
          !_ponder_history_set_active_child (self, conversation_id, parent_id, id, error))
        {
          _ponder_history_rollback (self);
          return FALSE;
        }
      id = parent_id;
    }

  return _ponder_history_commit (self, error);
}

/**
 * ponder_history_delete_message:
 *
 * Hides @message_id and its whole subtree. Each hidden row records this
 * delete, so ponder_history_undelete_message() brings back exactly these rows;
 * ponder_history_purge() removes them for good.
 */
gboolean
ponder_history_delete_message (PonderHistory  *self,
                               gint64          message_id,
                               GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  if (!_ponder_history_begin (self, error))
    return FALSE;

  if (!lookup_live_message (self, message_id, NULL, NULL, error))
    goto failed;

  stmt = _ponder_history_prepare (self,
                                  "WITH RECURSIVE subtree (id) AS ("
                                  "  SELECT ?1"
                                  "  UNION ALL"
                                  "  SELECT m.id FROM messages m JOIN subtree s"
                                  "  ON m.parent_id = s.id)"
                                  " UPDATE messages SET deleted = ?1"
                                  " WHERE deleted = 0 AND id IN (SELECT id FROM subtree)",
                                  error);
  if (stmt == NULL)
    goto failed;

  sqlite3_bind_int64 (stmt, 1, message_id);
  if (!_ponder_history_step_done (self, stmt, error) || !_ponder_history_commit (self, error))
    goto failed;

  return TRUE;

failed:
  _ponder_history_rollback (self);
  return FALSE;
}

gboolean
ponder_history_undelete_message (PonderHistory  *self,
                                 gint64          message_id,
                                 GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  stmt = _ponder_history_prepare (self,
                                  "WITH RECURSIVE subtree (id) AS ("
                                  "  SELECT ?1"
                                  "  UNION ALL"
                                  "  SELECT m.id FROM messages m JOIN subtree s"
                                  "  ON m.parent_id = s.id)"
                                  " UPDATE messages SET deleted = 0"
                                  " WHERE deleted = ?1 AND id IN (SELECT id FROM subtree)",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, message_id);
  if (!_ponder_history_step_done (self, stmt, error))
    return FALSE;

  if (sqlite3_changes (self->db) == 0)
    {
      _ponder_history_set_not_found (error, "deleted message", message_id);
      return FALSE;
    }

  return TRUE;
}

/**
 * ponder_history_purge_message:
 *
 * Removes for good what ponder_history_delete_message (@message_id) hid, once
 * its undo window is over. Other deletes keep their own undo.
 */
gboolean
ponder_history_purge_message (PonderHistory  *self,
                              gint64          message_id,
                              GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), FALSE);

  /* The subtree's root carries the marker; ON DELETE CASCADE takes the rest. */
  stmt = _ponder_history_prepare (self, "DELETE FROM messages WHERE id = ?1 AND deleted = ?1",
                                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, message_id);
  return _ponder_history_step_done (self, stmt, error);
}
