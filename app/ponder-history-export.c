/* ponder-history-export.c — Markdown and JSON export, JSON import
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Markdown is for people: it holds the active branch only. JSON is for
 * Ponder: it holds the whole live tree with the chosen branches, every
 * result and setting, so an import gives back the same conversation.
 *
 * JSON format ("ponder-conversation", version 1):
 *   { "format": "ponder-conversation", "version": 1,
 *     "title", "created", "updated" (ISO 8601, UTC, microseconds),
 *     "model", "system_prompt" (string or null), "settings": {sampling},
 *     "active_root": id or null,
 *     "messages": [ { "id", "parent" (id or null), "active_child" (id or
 *        null), "role", "content", "reasoning", "model", "created",
 *        "complete", "reasoning_expanded", "sampling" ({...} or null),
 *        "timings": { "reasoning_s", "time_to_first_token_s",
 *        "tokens_per_s" }, "tokens": { "prompt", "reasoning", "answer" } } ] }
 *   Ids are local to the file; parents come before their children. Unknown
 *   numbers are null.
 */

#define G_LOG_DOMAIN "ponder-history"

#include <json-glib/json-glib.h>
#include <glib/gi18n.h>

#include "ponder-history-private.h"

#define EXPORT_FORMAT  "ponder-conversation"
#define EXPORT_VERSION 1

/* Markdown */

static void
append_quoted (GString    *out,
               const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_string_append (out, lines[i][0] ? "> " : ">");
      g_string_append (out, lines[i]);
      g_string_append_c (out, '\n');
    }
}

static const char *
role_heading (PonderHistoryRole role)
{
  switch (role)
    {
    case PONDER_HISTORY_ROLE_SYSTEM:
      return _("System");
    case PONDER_HISTORY_ROLE_USER:
      return _("User");
    case PONDER_HISTORY_ROLE_ASSISTANT:
      return _("Assistant");
    default:
      g_return_val_if_reached ("?");
    }
}

static void
append_markdown_message (GString                    *out,
                         const PonderHistoryMessage *m)
{
  g_string_append_printf (out, "## %s\n\n", role_heading (m->role));

  if (m->reasoning[0] != '\0')
    {
      if (m->reasoning_s >= 0)
        g_string_append_printf (out, _("> **Reasoning** (thought for %.0f s)\n>\n"),
                                m->reasoning_s);
      else
        g_string_append (out, _("> **Reasoning**\n>\n"));
      append_quoted (out, m->reasoning);
      g_string_append_c (out, '\n');
    }

  g_string_append (out, m->content);
  if (!g_str_has_suffix (m->content, "\n"))
    g_string_append_c (out, '\n');
  if (!m->complete)
    g_string_append (out, _("\n*(This answer is incomplete.)*\n"));
  g_string_append_c (out, '\n');
}

/**
 * ponder_history_export_markdown:
 *
 * Returns: (transfer full): the active branch as Markdown, reasoning as
 *   block quotes; %NULL with @error set
 */
char *
ponder_history_export_markdown (PonderHistory  *self,
                                gint64          conversation_id,
                                GError        **error)
{
  g_autoptr(PonderHistoryConversation) conversation = NULL;
  g_autoptr(GPtrArray) path = NULL;
  GString *out;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  if (!(conversation = ponder_history_get_conversation (self, conversation_id, error)) ||
      !(path = ponder_history_list_active_path (self, conversation_id, error)))
    return NULL;

  out = g_string_new (NULL);
  g_string_append_printf (out, "# %s\n\n",
                          conversation->title[0] ? conversation->title : _("Untitled"));
  if (conversation->model != NULL)
    g_string_append_printf (out, _("*Model: %s*\n\n"), conversation->model);
  if (conversation->system_prompt != NULL)
    {
      g_string_append_printf (out, "## %s\n\n%s\n\n", role_heading (PONDER_HISTORY_ROLE_SYSTEM),
                              conversation->system_prompt);
    }

  for (guint i = 0; i < path->len; i++)
    append_markdown_message (out, g_ptr_array_index (path, i));

  return g_string_free (out, FALSE);
}

/* JSON export */

static char *
format_time (gint64 time_us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (time_us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) exact = NULL;

  if (dt == NULL)
    return g_strdup ("1970-01-01T00:00:00.000000Z");
  exact = g_date_time_add (dt, time_us % G_USEC_PER_SEC);
  return g_date_time_format (exact, "%Y-%m-%dT%H:%M:%S.%fZ");
}

static void
add_time (JsonBuilder *builder,
          const char  *name,
          gint64       time_us)
{
  g_autofree char *text = format_time (time_us);

  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, text);
}

static void
add_double_or_null (JsonBuilder *builder,
                    const char  *name,
                    double       value)
{
  json_builder_set_member_name (builder, name);
  if (value >= 0)
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_int_or_null (JsonBuilder *builder,
                 const char  *name,
                 gint64       value)
{
  json_builder_set_member_name (builder, name);
  if (value >= 0)
    json_builder_add_int_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_string_or_null (JsonBuilder *builder,
                    const char  *name,
                    const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_sampling (JsonBuilder                 *builder,
              const PonderHistorySampling *s)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "temperature");
  json_builder_add_double_value (builder, s->temperature);
  json_builder_set_member_name (builder, "top_p");
  json_builder_add_double_value (builder, s->top_p);
  json_builder_set_member_name (builder, "top_k");
  json_builder_add_int_value (builder, s->top_k);
  json_builder_set_member_name (builder, "min_p");
  json_builder_add_double_value (builder, s->min_p);
  json_builder_set_member_name (builder, "repeat_penalty");
  json_builder_add_double_value (builder, s->repeat_penalty);
  json_builder_set_member_name (builder, "max_tokens");
  json_builder_add_int_value (builder, s->max_tokens);
  json_builder_set_member_name (builder, "seed");
  json_builder_add_int_value (builder, s->seed);
  json_builder_set_member_name (builder, "reasoning_budget");
  json_builder_add_int_value (builder, s->reasoning_budget);
  json_builder_set_member_name (builder, "skip_reasoning");
  json_builder_add_boolean_value (builder, s->skip_reasoning);
  json_builder_end_object (builder);
}

static void
add_message (JsonBuilder                *builder,
             const PonderHistoryMessage *m,
             gint64                      active_child)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, m->id);
  add_int_or_null (builder, "parent", m->parent_id ? m->parent_id : -1);
  add_int_or_null (builder, "active_child", active_child ? active_child : -1);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, ponder_history_role_to_string (m->role));
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, m->content);
  json_builder_set_member_name (builder, "reasoning");
  json_builder_add_string_value (builder, m->reasoning);
  add_string_or_null (builder, "model", m->model);
  add_time (builder, "created", m->created_us);
  json_builder_set_member_name (builder, "complete");
  json_builder_add_boolean_value (builder, m->complete);
  json_builder_set_member_name (builder, "reasoning_expanded");
  json_builder_add_boolean_value (builder, m->reasoning_expanded);
  json_builder_set_member_name (builder, "sampling");
  if (m->has_sampling)
    add_sampling (builder, &m->sampling);
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "timings");
  json_builder_begin_object (builder);
  add_double_or_null (builder, "reasoning_s", m->reasoning_s);
  add_double_or_null (builder, "time_to_first_token_s", m->time_to_first_token_s);
  add_double_or_null (builder, "tokens_per_s", m->tokens_per_s);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "tokens");
  json_builder_begin_object (builder);
  add_int_or_null (builder, "prompt", m->n_prompt_tokens);
  add_int_or_null (builder, "reasoning", m->n_reasoning_tokens);
  add_int_or_null (builder, "answer", m->n_answer_tokens);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
}

/* Adds every live message whose parent is live, in id order (parents first). */
static gboolean
add_messages (PonderHistory  *self,
              JsonBuilder    *builder,
              gint64          conversation_id,
              GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  stmt = _ponder_history_prepare (self,
                                  "SELECT m.active_child_id, " PONDER_HISTORY_MESSAGE_COLUMNS
                                  " FROM messages m WHERE conversation_id = ?1 AND deleted = 0"
                                  " AND (parent_id IS NULL OR (SELECT p.deleted FROM messages p"
                                  "      WHERE p.id = m.parent_id) = 0)"
                                  " ORDER BY id",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(PonderHistoryMessage) m = _ponder_history_read_message (stmt, 1);

      add_message (builder, m, sqlite3_column_int64 (stmt, 0));
    }
  json_builder_end_array (builder);

  if (rc != SQLITE_DONE)
    {
      _ponder_history_set_error (self, error, rc, "export");
      return FALSE;
    }

  return TRUE;
}

static gboolean
get_active_root (PonderHistory  *self,
                 gint64          conversation_id,
                 gint64         *out_root,
                 GError        **error)
{
  g_auto(PonderHistoryStmt) stmt = NULL;
  int rc;

  stmt = _ponder_history_prepare (self,
                                  "SELECT active_root_id FROM conversations WHERE id = ?1",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, conversation_id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      _ponder_history_set_error (self, error, rc, "export");
      return FALSE;
    }

  *out_root = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

/**
 * ponder_history_export_json:
 *
 * Returns: (transfer full): the whole live tree of the conversation as JSON
 *   (the format is described at the top of this file); %NULL with @error set
 */
char *
ponder_history_export_json (PonderHistory  *self,
                            gint64          conversation_id,
                            GError        **error)
{
  g_autoptr(PonderHistoryConversation) c = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  gint64 active_root = 0;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), NULL);

  if (!(c = ponder_history_get_conversation (self, conversation_id, error)) ||
      !get_active_root (self, conversation_id, &active_root, error))
    return NULL;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, EXPORT_FORMAT);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, EXPORT_VERSION);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, c->title);
  add_time (builder, "created", c->created_us);
  add_time (builder, "updated", c->updated_us);
  add_string_or_null (builder, "model", c->model);
  add_string_or_null (builder, "system_prompt", c->system_prompt);
  json_builder_set_member_name (builder, "settings");
  add_sampling (builder, &c->sampling);
  add_int_or_null (builder, "active_root", active_root ? active_root : -1);
  if (!add_messages (self, builder, conversation_id, error))
    return NULL;
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}
