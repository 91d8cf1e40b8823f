/* ponder-history-private.h — shared between the ponder-history*.c files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sqlite3.h>

#include "ponder-history.h"

G_BEGIN_DECLS

/* A cached statement that resets itself when it leaves scope, so no call
 * leaves a read transaction open behind it. */
typedef sqlite3_stmt *PonderHistoryStmt;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (PonderHistoryStmt, sqlite3_reset, NULL)

struct _PonderHistory
{
  GObject     parent_instance;

  char       *path;
  sqlite3    *db;
  /* Prepared statements, keyed by their SQL text, kept for the life of the
   * connection: the partial-answer update runs every second while a model
   * streams, and should not pay for parsing each time. */
  GHashTable *statements;
  /* Transactions opened as savepoints inside an outer transaction, so that
   * a caller (an import, a benchmark batch) can group several calls. */
  guint       savepoint_depth;
};

/* Columns every message query selects, in the order _ponder_history_read_message
 * expects them. */
#define PONDER_HISTORY_MESSAGE_COLUMNS \
  "id, conversation_id, parent_id, role, content, reasoning, model, " \
  "temperature, top_p, top_k, min_p, repeat_penalty, max_tokens, seed, " \
  "reasoning_budget, skip_reasoning, reasoning_s, ttft_s, tokens_per_s, " \
  "n_prompt_tokens, n_reasoning_tokens, n_answer_tokens, " \
  "reasoning_expanded, complete, created_us"

#define PONDER_HISTORY_CONVERSATION_COLUMNS \
  "id, title, created_us, updated_us, model, system_prompt, temperature, " \
  "top_p, top_k, min_p, repeat_penalty, max_tokens, seed, " \
  "reasoning_budget, skip_reasoning"

sqlite3_stmt              *_ponder_history_prepare           (PonderHistory  *self,
                                                              const char     *sql,
                                                              GError        **error);
gboolean                   _ponder_history_step_done         (PonderHistory  *self,
                                                              sqlite3_stmt   *stmt,
                                                              GError        **error);
gboolean                   _ponder_history_exec              (PonderHistory  *self,
                                                              const char     *sql,
                                                              GError        **error);
gboolean                   _ponder_history_begin             (PonderHistory  *self,
                                                              GError        **error);
gboolean                   _ponder_history_commit            (PonderHistory  *self,
                                                              GError        **error);
void                       _ponder_history_rollback          (PonderHistory  *self);
void                       _ponder_history_set_error         (PonderHistory  *self,
                                                              GError        **error,
                                                              int             rc,
                                                              const char     *what);
void                       _ponder_history_set_not_found     (GError        **error,
                                                              const char     *what,
                                                              gint64          id);
PonderHistoryMessage      *_ponder_history_read_message      (sqlite3_stmt   *stmt,
                                                              int             first_column);
PonderHistoryConversation *_ponder_history_read_conversation (sqlite3_stmt   *stmt,
                                                              int             first_column);
gint64                     _ponder_history_insert_message    (PonderHistory              *self,
                                                              gint64                      conversation_id,
                                                              gint64                      parent_id,
                                                              const PonderHistoryMessage *message,
                                                              GError                    **error);
gint64                     _ponder_history_insert_conversation (PonderHistory              *self,
                                                                const char                 *title,
                                                                gint64                      created_us,
                                                                gint64                      updated_us,
                                                                GError                    **error);
gboolean                   _ponder_history_set_active_child  (PonderHistory  *self,
                                                              gint64          conversation_id,
                                                              gint64          parent_id,
                                                              gint64          child_id,
                                                              GError        **error);
char                      *_ponder_history_escape_fts_query  (const char     *text);

/* For tests only: the raw connection, to inject faults (query_only,
 * max_page_count) and to batch benchmark inserts. */
sqlite3                   *_ponder_history_get_db            (PonderHistory  *self);

G_END_DECLS
