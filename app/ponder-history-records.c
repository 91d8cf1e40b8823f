/* ponder-history-records.c — message, conversation and settings records
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "ponder-history"

#include <string.h>

#include <glib/gi18n.h>

#include "ponder-history-private.h"

const char *
ponder_history_role_to_string (PonderHistoryRole role)
{
  switch (role)
    {
    case PONDER_HISTORY_ROLE_SYSTEM:
      return "system";
    case PONDER_HISTORY_ROLE_USER:
      return "user";
    case PONDER_HISTORY_ROLE_ASSISTANT:
      return "assistant";
    default:
      g_return_val_if_reached ("user");
    }
}

gboolean
ponder_history_role_from_string (const char        *str,
                                 PonderHistoryRole *out_role)
{
  static const PonderHistoryRole roles[] = {
    PONDER_HISTORY_ROLE_SYSTEM, PONDER_HISTORY_ROLE_USER, PONDER_HISTORY_ROLE_ASSISTANT,
  };

  for (guint i = 0; str != NULL && i < G_N_ELEMENTS (roles); i++)
    {
      if (strcmp (str, ponder_history_role_to_string (roles[i])) == 0)
        {
          *out_role = roles[i];
          return TRUE;
        }
    }

  return FALSE;
}

void
ponder_history_sampling_init_default (PonderHistorySampling *sampling)
{
  g_return_if_fail (sampling != NULL);

  sampling->temperature = 0.6;
  sampling->top_p = 0.95;
  sampling->top_k = 0;
  sampling->min_p = 0.0;
  sampling->repeat_penalty = 1.0;
  sampling->max_tokens = 0;
  sampling->seed = -1;
  sampling->reasoning_budget = -1;
  sampling->skip_reasoning = FALSE;
}

/**
 * ponder_history_message_new:
 *
 * Returns: (transfer full): a message with no timings or counts, marked
 *   complete, ready to fill in and pass to ponder_history_add_message()
 */
PonderHistoryMessage *
ponder_history_message_new (PonderHistoryRole  role,
                            const char        *content)
{
  PonderHistoryMessage *message = g_new0 (PonderHistoryMessage, 1);

  message->role = role;
  message->content = g_strdup (content ? content : "");
  message->reasoning = g_strdup ("");
  ponder_history_sampling_init_default (&message->sampling);
  message->reasoning_s = -1;
  message->time_to_first_token_s = -1;
  message->tokens_per_s = -1;
  message->n_prompt_tokens = -1;
  message->n_reasoning_tokens = -1;
  message->n_answer_tokens = -1;
  message->complete = TRUE;
  return message;
}

void
ponder_history_message_free (PonderHistoryMessage *message)
{
  if (message == NULL)
    return;

  g_free (message->content);
  g_free (message->reasoning);
  g_free (message->model);
  g_free (message);
}

void
ponder_history_conversation_free (PonderHistoryConversation *conversation)
{
  if (conversation == NULL)
    return;

  g_free (conversation->title);
  g_free (conversation->model);
  g_free (conversation->system_prompt);
  g_free (conversation);
}

void
ponder_history_search_hit_free (PonderHistorySearchHit *hit)
{
  if (hit == NULL)
    return;

  ponder_history_conversation_free (hit->conversation);
  g_free (hit->snippet);
  g_free (hit);
}

static char *
dup_column_text (sqlite3_stmt *stmt,
                 int           column)
{
  return g_strdup ((const char *) sqlite3_column_text (stmt, column));
}

static void
read_sampling (sqlite3_stmt          *stmt,
               int                    first,
               PonderHistorySampling *sampling)
{
  sampling->temperature = sqlite3_column_double (stmt, first);
  sampling->top_p = sqlite3_column_double (stmt, first + 1);
  sampling->top_k = sqlite3_column_int (stmt, first + 2);
  sampling->min_p = sqlite3_column_double (stmt, first + 3);
  sampling->repeat_penalty = sqlite3_column_double (stmt, first + 4);
  sampling->max_tokens = sqlite3_column_int (stmt, first + 5);
  sampling->seed = sqlite3_column_int64 (stmt, first + 6);
  sampling->reasoning_budget = sqlite3_column_int (stmt, first + 7);
  sampling->skip_reasoning = sqlite3_column_int (stmt, first + 8) != 0;
}

static double
column_double_or_unknown (sqlite3_stmt *stmt,
                          int           column)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return -1;
  return sqlite3_column_double (stmt, column);
}

static int
column_int_or_unknown (sqlite3_stmt *stmt,
                       int           column)
{
  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return -1;
  return sqlite3_column_int (stmt, column);
}

/* Reads PONDER_HISTORY_MESSAGE_COLUMNS starting at @first. */
PonderHistoryMessage *
_ponder_history_read_message (sqlite3_stmt *stmt,
                              int           first)
{
  PonderHistoryMessage *m = g_new0 (PonderHistoryMessage, 1);

  m->id = sqlite3_column_int64 (stmt, first + 0);
  m->conversation_id = sqlite3_column_int64 (stmt, first + 1);
  m->parent_id = sqlite3_column_int64 (stmt, first + 2);
  if (!ponder_history_role_from_string ((const char *) sqlite3_column_text (stmt, first + 3),
                                        &m->role))
    m->role = PONDER_HISTORY_ROLE_USER;
  m->content = dup_column_text (stmt, first + 4);
  m->reasoning = dup_column_text (stmt, first + 5);
  m->model = dup_column_text (stmt, first + 6);
  m->has_sampling = sqlite3_column_type (stmt, first + 7) != SQLITE_NULL;
  if (m->has_sampling)
    read_sampling (stmt, first + 7, &m->sampling);
  else
    ponder_history_sampling_init_default (&m->sampling);
  m->reasoning_s = column_double_or_unknown (stmt, first + 16);
  m->time_to_first_token_s = column_double_or_unknown (stmt, first + 17);
  m->tokens_per_s = column_double_or_unknown (stmt, first + 18);
  m->n_prompt_tokens = column_int_or_unknown (stmt, first + 19);
  m->n_reasoning_tokens = column_int_or_unknown (stmt, first + 20);
  m->n_answer_tokens = column_int_or_unknown (stmt, first + 21);
  m->reasoning_expanded = sqlite3_column_int (stmt, first + 22) != 0;
  m->complete = sqlite3_column_int (stmt, first + 23) != 0;
  m->created_us = sqlite3_column_int64 (stmt, first + 24);
  m->n_siblings = 1;

  if (m->content == NULL)
    m->content = g_strdup ("");
  if (m->reasoning == NULL)
    m->reasoning = g_strdup ("");
  return m;
}

/* Reads PONDER_HISTORY_CONVERSATION_COLUMNS starting at @first. */
PonderHistoryConversation *
_ponder_history_read_conversation (sqlite3_stmt *stmt,
                                   int           first)
{
  PonderHistoryConversation *c = g_new0 (PonderHistoryConversation, 1);

  c->id = sqlite3_column_int64 (stmt, first + 0);
  c->title = dup_column_text (stmt, first + 1);
  c->created_us = sqlite3_column_int64 (stmt, first + 2);
  c->updated_us = sqlite3_column_int64 (stmt, first + 3);
  c->model = dup_column_text (stmt, first + 4);
  c->system_prompt = dup_column_text (stmt, first + 5);
  read_sampling (stmt, first + 6, &c->sampling);
  if (c->title == NULL)
    c->title = g_strdup ("");
  return c;
}

