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

/* Folds a word the way the index's tokenizer does (unicode61 with
 * remove_diacritics): case-folded, accents dropped. */
static char *
fold_word (const char *word,
           gssize      len)
{
  g_autofree char *lower = g_utf8_casefold (word, len);
  g_autofree char *decomposed = g_utf8_normalize (lower, -1, G_NORMALIZE_NFD);
  GString *out = g_string_new (NULL);

  for (const char *p = decomposed; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_type (c) != G_UNICODE_NON_SPACING_MARK)
        g_string_append_unichar (out, c);
    }

  return g_string_free (out, FALSE);
}

/* The query's words, folded. */
static GPtrArray *
fold_query_words (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_auto(GStrv) words = g_strsplit_set (valid, " \t\n\r\f\v", -1);
  GPtrArray *folded = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *start = words[i];

      /* Only the first run of letters and digits: "(sic)" is "sic". */
      while (*start != '\0' && !g_unichar_isalnum (g_utf8_get_char (start)))
        start = g_utf8_next_char (start);
      if (*start != '\0')
        {
          const char *end = start;

          while (*end != '\0' && g_unichar_isalnum (g_utf8_get_char (end)))
            end = g_utf8_next_char (end);
          g_ptr_array_add (folded, fold_word (start, end - start));
        }
    }

  return folded;
}

/* Byte offset of the first word of @text that starts with one of @words,
 * or -1. */
static gssize
find_first_match (const char *text,
                  GPtrArray  *words)
{
  const char *p = text;

  while (*p != '\0')
    {
      const char *end = p;
      g_autofree char *folded = NULL;

      if (!g_unichar_isalnum (g_utf8_get_char (p)))
        {
          p = g_utf8_next_char (p);
          continue;
        }

      while (*end != '\0' && g_unichar_isalnum (g_utf8_get_char (end)))
        end = g_utf8_next_char (end);
      folded = fold_word (p, end - p);
      for (guint i = 0; i < words->len; i++)
        if (g_str_has_prefix (folded, g_ptr_array_index (words, i)))
          return p - text;
      p = end;
    }

  return -1;
}

/* About @before characters before the match and @after from it, on one
 * line, with "…" where text was cut. The snippet is computed here rather
 * than with FTS5's snippet(), which walks the whole doclist of a common word
 * again for every hit (milliseconds each on 100,000 messages). */
static char *
make_snippet (const char *text,
              GPtrArray  *words)
{
  const glong before = 30, after = 90;
  gssize match = find_first_match (text, words);
  const char *at = text + MAX (match, 0);
  const char *start = at;
  const char *end = at;
  GString *out;

  for (glong i = 0; i < before && start > text; i++)
    start = g_utf8_prev_char (start);
  for (glong i = 0; i < after && *end != '\0'; i++)
    end = g_utf8_next_char (end);

  out = g_string_new (start > text ? "…" : "");
  for (const char *p = start; p < end; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\n' || c == '\r' || c == '\t')
        g_string_append_c (out, ' ');
      else
        g_string_append_unichar (out, c);
    }
  if (*end != '\0')
    g_string_append (out, "…");

  return g_string_free (out, FALSE);
}

/* The hit's text: the answer if it holds a query word, else the reasoning. */
static char *
dup_message_snippet (PonderHistory  *self,
                     GPtrArray      *words,
                     gint64          message_id,
                     GError        **error)
{
  g_autoptr(PonderHistoryMessage) message = NULL;

  if (!(message = ponder_history_get_message (self, message_id, error)))
    return NULL;

  if (find_first_match (message->content, words) < 0 &&
      find_first_match (message->reasoning, words) >= 0)
    return make_snippet (message->reasoning, words);

  return make_snippet (message->content, words);
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
  g_autoptr(GPtrArray) words = NULL;
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
  words = fold_query_words (text);
  for (guint i = 0; i < hits->len; i++)
    {
      PonderHistorySearchHit *hit = g_ptr_array_index (hits, i);

      if (hit->message_id == 0)
        hit->snippet = g_strdup (hit->conversation->title);
      else if (!(hit->snippet = dup_message_snippet (self, words, hit->message_id, error)))
        return NULL;
    }

  return g_steal_pointer (&hits);
}

typedef struct
{
  char  *path;
  char  *text;
  guint  limit;
} SearchData;

static void
search_data_free (gpointer data)
{
  SearchData *d = data;

  g_free (d->path);
  g_free (d->text);
  g_free (d);
}

/* SQLite calls this every few thousand VM steps; non-zero interrupts. */
static int
search_progress_cb (void *user_data)
{
  return g_cancellable_is_cancelled (user_data);
}

static void
search_thread_cb (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  SearchData *d = task_data;
  g_autoptr(PonderHistory) reader = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *hits;

  /* The worker reads through a connection of its own, so it shares no
   * state with the caller's; WAL lets it read while the caller writes. */
  if (!(reader = ponder_history_new (d->path, 0, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (cancellable != NULL)
    sqlite3_progress_handler (reader->db, 1000, search_progress_cb, cancellable);

  if (!(hits = ponder_history_search (reader, d->text, d->limit, &error)))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, hits, (GDestroyNotify) g_ptr_array_unref);
}

/**
 * ponder_history_search_async:
 *
 * Runs ponder_history_search() on a worker thread, through a separate
 * read connection, so the sidebar's search field never blocks the main
 * loop. Cancelling @cancellable interrupts the query.
 */
void
ponder_history_search_async (PonderHistory       *self,
                             const char          *text,
                             guint                limit,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SearchData *d;

  g_return_if_fail (PONDER_IS_HISTORY (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  d = g_new0 (SearchData, 1);
  d->path = g_strdup (self->path);
  d->text = g_strdup (text ? text : "");
  d->limit = limit;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ponder_history_search_async);
  g_task_set_name (task, "[ponder-history-search]");
  g_task_set_task_data (task, d, search_data_free);
  g_task_run_in_thread (task, search_thread_cb);
}

/**
 * ponder_history_search_finish:
 *
 * Returns: (transfer full) (element-type PonderHistorySearchHit): as
 *   ponder_history_search(); %NULL with @error set (also when cancelled)
 */
GPtrArray *
ponder_history_search_finish (PonderHistory  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
