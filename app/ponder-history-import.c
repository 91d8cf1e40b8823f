/* ponder-history-import.c — read an exported JSON conversation back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The file may come from anywhere, so every member is checked for its type,
 * every parent must name a message that came earlier in the file (which also
 * rules out cycles), and the whole import is one transaction: a bad file adds
 * nothing.
 */

#define G_LOG_DOMAIN "ponder-history"

#include <json-glib/json-glib.h>
#include <glib/gi18n.h>

#include "ponder-history-private.h"

#define EXPORT_FORMAT  "ponder-conversation"
#define EXPORT_VERSION 1

typedef struct
{
  PonderHistory *self;
  gint64         conversation_id;
  GHashTable    *ids;            /* file id (gint64 *) -> stored id (gint64 *) */
  GArray        *choices;        /* (stored parent, file child) pairs */
} Import;

static void
import_clear (Import *import)
{
  g_clear_pointer (&import->ids, g_hash_table_unref);
  g_clear_pointer (&import->choices, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Import, import_clear)

static gboolean
invalid (GError     **error,
         const char  *detail)
{
  g_set_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_INVALID,
               _("This file is not a conversation exported by Ponder: %s."), detail);
  return FALSE;
}

/* A member that must be a value of @type, or may be null/absent when
 * @optional. Sets *out_node to NULL for null or absent. */
static gboolean
get_member (JsonObject  *object,
            const char  *name,
            GType        type,
            gboolean     optional,
            JsonNode   **out_node,
            GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);
  g_autofree char *detail = NULL;

  *out_node = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (optional)
        return TRUE;
      detail = g_strdup_printf ("“%s” is missing", name);
      return invalid (error, detail);
    }

  if (type == JSON_TYPE_OBJECT ? !JSON_NODE_HOLDS_OBJECT (node) :
      type == JSON_TYPE_ARRAY ? !JSON_NODE_HOLDS_ARRAY (node) :
      !JSON_NODE_HOLDS_VALUE (node) ||
      (type == G_TYPE_DOUBLE ? (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
                                json_node_get_value_type (node) != G_TYPE_INT64) :
       json_node_get_value_type (node) != type))
    {
      detail = g_strdup_printf ("“%s” has the wrong type", name);
      return invalid (error, detail);
    }

  *out_node = node;
  return TRUE;
}

static gboolean
get_string (JsonObject   *object,
            const char   *name,
            gboolean      optional,
            const char  **out_value,
            GError      **error)
{
  JsonNode *node;

  if (!get_member (object, name, G_TYPE_STRING, optional, &node, error))
    return FALSE;
  *out_value = node ? json_node_get_string (node) : NULL;
  return TRUE;
}

/* Optional integers read -1 when null or absent. */
static gboolean
get_int (JsonObject  *object,
         const char  *name,
         gboolean     optional,
         gint64      *out_value,
         GError     **error)
{
  JsonNode *node;

  if (!get_member (object, name, G_TYPE_INT64, optional, &node, error))
    return FALSE;
  *out_value = node ? json_node_get_int (node) : -1;
  return TRUE;
}

static gboolean
get_double (JsonObject  *object,
            const char  *name,
            double      *out_value,
            GError     **error)
{
  JsonNode *node;

  if (!get_member (object, name, G_TYPE_DOUBLE, TRUE, &node, error))
    return FALSE;
  if (node != NULL)
    *out_value = json_node_get_double (node);
  return TRUE;
}

static gboolean
get_boolean (JsonObject  *object,
             const char  *name,
             gboolean    *out_value,
             GError     **error)
{
  JsonNode *node;

  if (!get_member (object, name, G_TYPE_BOOLEAN, TRUE, &node, error))
    return FALSE;
  if (node != NULL)
    *out_value = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
get_time (JsonObject  *object,
          const char  *name,
          gint64      *out_time_us,
          GError     **error)
{
  g_autoptr(GDateTime) dt = NULL;
  const char *text;

  if (!get_string (object, name, TRUE, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;  /* keep the default */

  if (!(dt = g_date_time_new_from_iso8601 (text, NULL)))
    return invalid (error, "a time is not in ISO 8601 form");
  *out_time_us = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
  return TRUE;
}

/* Missing members keep the defaults, so older or hand-written files load. */
static gboolean
read_sampling (JsonObject            *object,
               PonderHistorySampling *s,
               GError               **error)
{
  gint64 top_k = -1, max_tokens = -1, seed = -1, budget = -1;

  ponder_history_sampling_init_default (s);
  if (!get_double (object, "temperature", &s->temperature, error) ||
      !get_double (object, "top_p", &s->top_p, error) ||
      !get_double (object, "min_p", &s->min_p, error) ||
      !get_double (object, "repeat_penalty", &s->repeat_penalty, error) ||
      !get_int (object, "top_k", TRUE, &top_k, error) ||
      !get_int (object, "max_tokens", TRUE, &max_tokens, error) ||
      !get_int (object, "seed", TRUE, &seed, error) ||
      !get_int (object, "reasoning_budget", TRUE, &budget, error) ||
      !get_boolean (object, "skip_reasoning", &s->skip_reasoning, error))
    return FALSE;

  if (top_k > G_MAXINT || max_tokens > G_MAXINT || budget > G_MAXINT)
    return invalid (error, "a setting is out of range");
  s->top_k = top_k >= 0 ? (gint) top_k : 0;
  s->max_tokens = max_tokens >= 0 ? (gint) max_tokens : 0;
  s->seed = seed;
  s->reasoning_budget = budget >= 0 ? (gint) budget : -1;
  return TRUE;
}

static gint
int_or_unknown (gint64 value)
{
  return value >= 0 && value <= G_MAXINT ? (gint) value : -1;
}

static gboolean
read_results (JsonObject           *object,
              PonderHistoryMessage *m,
              GError              **error)
{
  JsonNode *timings = NULL;
  JsonNode *tokens = NULL;
  gint64 n_prompt = -1, n_reasoning = -1, n_answer = -1;

  if (!get_member (object, "timings", JSON_TYPE_OBJECT, TRUE, &timings, error) ||
      !get_member (object, "tokens", JSON_TYPE_OBJECT, TRUE, &tokens, error))
    return FALSE;

  if (timings != NULL &&
      (!get_double (json_node_get_object (timings), "reasoning_s", &m->reasoning_s, error) ||
       !get_double (json_node_get_object (timings), "time_to_first_token_s",
                    &m->time_to_first_token_s, error) ||
       !get_double (json_node_get_object (timings), "tokens_per_s", &m->tokens_per_s, error)))
    return FALSE;

  if (tokens != NULL &&
      (!get_int (json_node_get_object (tokens), "prompt", TRUE, &n_prompt, error) ||
       !get_int (json_node_get_object (tokens), "reasoning", TRUE, &n_reasoning, error) ||
       !get_int (json_node_get_object (tokens), "answer", TRUE, &n_answer, error)))
    return FALSE;

  m->n_prompt_tokens = int_or_unknown (n_prompt);
  m->n_reasoning_tokens = int_or_unknown (n_reasoning);
  m->n_answer_tokens = int_or_unknown (n_answer);
  return TRUE;
}

static gboolean
read_message (JsonObject            *object,
              PonderHistoryMessage **out_message,
              GError               **error)
{
  g_autoptr(PonderHistoryMessage) m = ponder_history_message_new (PONDER_HISTORY_ROLE_USER, "");
  const char *role, *content, *reasoning = NULL, *model = NULL;
  JsonNode *sampling = NULL;

  if (!get_string (object, "role", FALSE, &role, error) ||
      !get_string (object, "content", FALSE, &content, error) ||
      !get_string (object, "reasoning", TRUE, &reasoning, error) ||
      !get_string (object, "model", TRUE, &model, error) ||
      !get_time (object, "created", &m->created_us, error) ||
      !get_boolean (object, "complete", &m->complete, error) ||
      !get_boolean (object, "reasoning_expanded", &m->reasoning_expanded, error) ||
      !get_member (object, "sampling", JSON_TYPE_OBJECT, TRUE, &sampling, error) ||
      !read_results (object, m, error))
    return FALSE;

  if (!ponder_history_role_from_string (role, &m->role))
    return invalid (error, "a message has an unknown role");
  if (sampling != NULL &&
      !read_sampling (json_node_get_object (sampling), &m->sampling, error))
    return FALSE;

  m->has_sampling = sampling != NULL;
  g_free (m->content);
  m->content = g_strdup (content);
  g_free (m->reasoning);
  m->reasoning = g_strdup (reasoning ? reasoning : "");
  m->model = g_strdup (model);
  *out_message = g_steal_pointer (&m);
  return TRUE;
}

static gint64
lookup_id (Import *import,
           gint64  file_id)
{
  gint64 *stored = g_hash_table_lookup (import->ids, &file_id);

  return stored ? *stored : 0;
}

static gboolean
import_message (Import      *import,
                JsonNode    *node,
                GError     **error)
{
  g_autoptr(PonderHistoryMessage) m = NULL;
  JsonObject *object;
  gint64 file_id, file_parent, active_child, parent = 0, id;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "a message is not an object");
  object = json_node_get_object (node);

  if (!get_int (object, "id", FALSE, &file_id, error) ||
      !get_int (object, "parent", TRUE, &file_parent, error) ||
      !get_int (object, "active_child", TRUE, &active_child, error) ||
      !read_message (object, &m, error))
    return FALSE;

  if (lookup_id (import, file_id) != 0)
    return invalid (error, "two messages share an id");
  if (file_parent != -1 && !(parent = lookup_id (import, file_parent)))
    return invalid (error, "a message names a parent that does not come before it");

  id = _ponder_history_insert_message (import->self, import->conversation_id, parent, m, error);
  if (id == 0)
    return FALSE;

  g_hash_table_insert (import->ids, g_memdup2 (&file_id, sizeof file_id),
                       g_memdup2 (&id, sizeof id));
  if (active_child != -1)
    {
      gint64 pair[2] = { id, active_child };
      g_array_append_val (import->choices, pair);
    }

  return TRUE;
}

/* Restores the chosen branches once every message has its stored id. */
static gboolean
apply_choices (Import  *import,
               gint64   file_active_root,
               GError **error)
{
  gint64 root = file_active_root != -1 ? lookup_id (import, file_active_root) : 0;

  if (root != 0 &&
      !_ponder_history_set_active_child (import->self, import->conversation_id, 0, root, error))
    return FALSE;

  for (guint i = 0; i < import->choices->len; i++)
    {
      const gint64 *pair = &g_array_index (import->choices, gint64, 2 * i);
      gint64 child = lookup_id (import, pair[1]);

      if (child != 0 &&
          !_ponder_history_set_active_child (import->self, import->conversation_id,
                                             pair[0], child, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
import_conversation (Import      *import,
                     JsonObject  *object,
                     GError     **error)
{
  PonderHistorySampling sampling;
  JsonNode *settings = NULL, *messages = NULL;
  const char *title, *model = NULL, *system_prompt = NULL;
  gint64 created = g_get_real_time ();
  gint64 active_root = -1;
  JsonArray *array;

  ponder_history_sampling_init_default (&sampling);
  if (!get_string (object, "title", FALSE, &title, error) ||
      !get_string (object, "model", TRUE, &model, error) ||
      !get_string (object, "system_prompt", TRUE, &system_prompt, error) ||
      !get_time (object, "created", &created, error) ||
      !get_int (object, "active_root", TRUE, &active_root, error) ||
      !get_member (object, "settings", JSON_TYPE_OBJECT, TRUE, &settings, error) ||
      !get_member (object, "messages", JSON_TYPE_ARRAY, FALSE, &messages, error))
    return FALSE;

  if (settings != NULL && !read_sampling (json_node_get_object (settings), &sampling, error))
    return FALSE;

  /* Updated now, so the imported conversation shows at the top. */
  import->conversation_id = _ponder_history_insert_conversation (import->self, title, created,
                                                                 g_get_real_time (), error);
  if (import->conversation_id == 0 ||
      !ponder_history_set_conversation_settings (import->self, import->conversation_id, model,
                                                 system_prompt, &sampling, error))
    return FALSE;

  array = json_node_get_array (messages);
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (!import_message (import, json_array_get_element (array, i), error))
      return FALSE;

  return apply_choices (import, active_root, error);
}

static JsonObject *
check_header (JsonParser  *parser,
              GError     **error)
{
  JsonNode *root = json_parser_get_root (parser);
  JsonObject *object;
  const char *format;
  gint64 version;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid (error, "the top level is not an object");
      return NULL;
    }

  object = json_node_get_object (root);
  if (!get_string (object, "format", FALSE, &format, error) ||
      !get_int (object, "version", FALSE, &version, error))
    return NULL;

  if (g_strcmp0 (format, EXPORT_FORMAT) != 0)
    {
      invalid (error, "its “format” is not “" EXPORT_FORMAT "”");
      return NULL;
    }

  if (version < 1 || version > EXPORT_VERSION)
    {
      g_set_error (error, PONDER_HISTORY_ERROR, PONDER_HISTORY_ERROR_TOO_NEW,
                   _("This conversation was exported by a newer version of Ponder "
                     "(format %lld). Update Ponder to import it."), (long long) version);
      return NULL;
    }

  return object;
}

/**
 * ponder_history_import_json:
 * @json: text from ponder_history_export_json()
 * @length: its length, or -1 when NUL-terminated
 *
 * Adds the conversation as a new one (new ids; the tree, the chosen
 * branches, texts, results and settings as in the file).
 *
 * Returns: the new conversation's id, or 0 with @error set
 *   (%PONDER_HISTORY_ERROR_INVALID for a malformed file)
 */
gint64
ponder_history_import_json (PonderHistory  *self,
                            const char     *json,
                            gssize          length,
                            GError        **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) parse_error = NULL;
  g_auto(Import) import = { 0, };
  JsonObject *object;

  g_return_val_if_fail (PONDER_IS_HISTORY (self), 0);
  g_return_val_if_fail (json != NULL, 0);

  if (!json_parser_load_from_data (parser, json, length, &parse_error))
    {
      invalid (error, parse_error->message);
      return 0;
    }

  if (!(object = check_header (parser, error)))
    return 0;

  import.self = self;
  import.ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  import.choices = g_array_new (FALSE, FALSE, 2 * sizeof (gint64));

  if (!_ponder_history_begin (self, error))
    return 0;

  if (!import_conversation (&import, object, error) || !_ponder_history_commit (self, error))
    {
      _ponder_history_rollback (self);
      return 0;
    }

  return import.conversation_id;
}
