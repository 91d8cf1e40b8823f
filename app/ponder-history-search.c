/* ponder-history-search.c — full-text search with FTS5
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the user types is never FTS5 syntax: each word becomes a quoted
 * string, so quotes, parentheses, AND/OR/NOT/NEAR, colons, stars and carets
 * are searched as text (or dropped when they hold no letter or digit) and can
 * never raise a syntax error. The last word matches as a prefix, so results
 * follow the user while they type.
 */

#define G_LOG_DOMAIN "ponder-history"

#include <glib/gi18n.h>

#include "ponder-history-private.h"

static gboolean
has_word_character (const char *word)
{
  for (const char *p = word; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_isalnum (g_utf8_get_char (p)))
      return TRUE;

  return FALSE;
}

/**
 * _ponder_history_escape_fts_query:
 *
 * Returns: (transfer full) (nullable): an FTS5 query that ANDs every word of
 *   @text as a literal string, or %NULL when @text holds no word at all
 */
char *
_ponder_history_escape_fts_query (const char *text)
{
  g_autoptr(GString) query = g_string_new (NULL);
  g_autofree char *valid = NULL;
  g_auto(GStrv) words = NULL;

  if (text == NULL)
    return NULL;

  /* Invalid UTF-8 must not reach the tokenizer as half a character. */
  valid = g_utf8_make_valid (text, -1);
  words = g_strsplit_set (valid, " \t\n\r\f\v", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (!has_word_character (words[i]))
        continue;

      if (query->len > 0)
        g_string_append_c (query, ' ');
      g_string_append_c (query, '"');
      for (const char *p = words[i]; *p != '\0'; p++)
        {
          if (*p == '"')
            g_string_append_c (query, '"');  /* "" is a literal quote */
          g_string_append_c (query, *p);
        }
      g_string_append_c (query, '"');
    }

  if (query->len == 0)
    return NULL;

  g_string_append_c (query, '*');
  return g_string_free (g_steal_pointer (&query), FALSE);
}

/* Only the hits shown get a snippet: computing one for each of thousands of
 * matching rows would cost more than the search itself. */
static char *
dup_message_snippet (PonderHistory  *self,
                     const char     *query,
                     gint64          message_id,
                     GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  stmt = _ponder_history_prepare (self,
                                  "SELECT snippet (messages_fts, -1, '', '', '…', 12)"
                                  " FROM messages_fts WHERE messages_fts MATCH ?1"
                                  " AND rowid = ?2",
                                  error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_text (stmt, 1, query, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, message_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  if (rc == SQLITE_DONE)
    return g_strdup ("");

  _ponder_history_set_error (self, error, rc, "search");
  return NULL;
}

/**
 * ponder_history_search:
 * @text: what the user typed (any text; it is escaped)
 * @limit: the most conversations to return; 0 for all
 *
 * Finds live conversations whose title, or one of whose live messages
 * (answer or reasoning), holds every word of @text; most recently updated
 * first. Each conversation appears once, with its newest matching message.
 *
 * Returns: (transfer full) (element-type PonderHistorySearchHit): the hits,
 *   empty when @text holds no word; %NULL with @error set
 */
GPtrArray *
ponder_history_search (PonderHistory  *self,
                       const char     *text,
                       guint           limit,
                       GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autofree char *query = NULL;
  int rc;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  hits = g_ptr_array_new_with_free_func ((GDestroyNotify) ponder_history_search_hit_free);
  if (!(query = _ponder_history_escape_fts_query (text)))
    return g_steal_pointer (&hits);

  stmt = _ponder_history_prepare (self,
                                  "WITH message_hits (cid, mid) AS ("
                                  "  SELECT m.conversation_id, max (m.id)"
                                  "  FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
                                  "  WHERE messages_fts MATCH ?1 AND m.deleted = 0"
                                  "  GROUP BY m.conversation_id),"
                                  " title_hits (cid, mid) AS ("
                                  "  SELECT rowid, 0 FROM conversations_fts"
                                  "  WHERE conversations_fts MATCH ?1),"
                                  " best (cid, mid) AS ("
                                  "  SELECT cid, max (mid) FROM"
                                  "  (SELECT * FROM message_hits UNION ALL SELECT * FROM title_hits)"
                                  "  GROUP BY cid)"
                                  " SELECT best.mid, " PONDER_HISTORY_CONVERSATION_COLUMNS
                                  " FROM best JOIN conversations ON conversations.id = best.cid"
                                  " WHERE conversations.deleted = 0"
                                  " ORDER BY updated_us DESC, id DESC LIMIT ?2",
                                  error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_text (stmt, 1, query, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, limit ? (gint64) limit : -1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      PonderHistorySearchHit *hit = g_new0 (PonderHistorySearchHit, 1);

      hit->message_id = sqlite3_column_int64 (stmt, 0);
      hit->conversation = _ponder_history_read_conversation (stmt, 1);
      g_ptr_array_add (hits, hit);
    }

  if (rc != SQLITE_DONE)
    {
      _ponder_history_set_error (self, error, rc, "search");
      return NULL;
    }

  sqlite3_reset (stmt);
  for (guint i = 0; i < hits->len; i++)
    {
      PonderHistorySearchHit *hit = g_ptr_array_index (hits, i);

      if (hit->message_id == 0)
        hit->snippet = g_strdup (hit->conversation->title);
      else if (!(hit->snippet = dup_message_snippet (self, query, hit->message_id, error)))
        return NULL;
    }

  return g_steal_pointer (&hits);
}
