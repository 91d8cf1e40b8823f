/* test-history-search.c — FTS5 search, Markdown and JSON export, import
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <json-glib/json-glib.h>

#include "ponder-history.h"
#include "ponder-history-private.h"
#include "history-test-util.h"
typedef struct
{
  char          *dir;
  char          *path;
  PonderHistory *history;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = history_test_dir_new ();
  f->path = g_build_filename (f->dir, "history.db", NULL);
  f->history = ponder_history_new (f->path, 0, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->history);
  g_free (f->path);
  history_test_dir_free (f->dir);
}

static gint64
add_full (Fixture           *f,
          gint64             conversation,
          gint64             parent,
          PonderHistoryRole  role,
          const char        *content,
          const char        *reasoning)
{
  g_autoptr(PonderHistoryMessage) m = ponder_history_message_new (role, content);
  g_autoptr(GError) error = NULL;
  gint64 id;

  g_free (m->reasoning);
  m->reasoning = g_strdup (reasoning ? reasoning : "");
  id = ponder_history_add_message (f->history, conversation, parent, m, &error);
  g_assert_no_error (error);
  return id;
}

static gint64
create (Fixture    *f,
        const char *title)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ponder_history_create_conversation (f->history, title, NULL, &error);

  g_assert_no_error (error);
  return id;
}

static gint
compare_ids (gconstpointer a,
             gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* The conversation ids found for @text, sorted, as "1,3"; "" for none. */
static char *
found (Fixture    *f,
       const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hits = ponder_history_search (f->history, text, 0, &error);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  GString *out = g_string_new (NULL);

  g_assert_no_error (error);
  g_assert_nonnull (hits);
  for (guint i = 0; i < hits->len; i++)
    {
      PonderHistorySearchHit *hit = g_ptr_array_index (hits, i);
      g_array_append_val (ids, hit->conversation->id);
      g_assert_nonnull (hit->snippet);
    }
  g_array_sort (ids, compare_ids);
  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (out, "%s%" G_GINT64_FORMAT, i ? "," : "",
                            g_array_index (ids, gint64, i));
  return g_string_free (out, FALSE);
}

static void
test_search (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  gint64 c1, c2, c3, m1, m2, m3;

  c1 = create (f, "Prime numbers");
  m1 = add_full (f, c1, 0, PONDER_HISTORY_ROLE_USER, "Is 91 a prime?", NULL);
  add_full (f, c1, m1, PONDER_HISTORY_ROLE_ASSISTANT, "No: 91 = 7 × 13.",
            "Let me try dividing by seven.");
  c2 = create (f, "Cooking");
  m2 = add_full (f, c2, 0, PONDER_HISTORY_ROLE_USER, "How long to boil an egg?", NULL);
  m3 = add_full (f, c2, m2, PONDER_HISTORY_ROLE_ASSISTANT, "About seven minutes.", NULL);
  c3 = create (f, "Café crème");

  g_assert_cmpint (c1, ==, 1);
  g_assert_cmpint (c2, ==, 2);
  g_assert_cmpint (c3, ==, 3);

#define FOUND(text, expected) G_STMT_START { \
    g_autofree char *got_ = found (f, text); \
    g_assert_cmpstr (got_, ==, expected); \
  } G_STMT_END

  FOUND ("prime", "1");           /* title and message */
  FOUND ("seven", "1,2");         /* reasoning of 1, answer of 2 */
  FOUND ("seven minutes", "2");   /* every word must match, in one message */
  FOUND ("seven egg", "");        /* words spread over two messages do not */
  FOUND ("cook", "2");            /* the last word is a prefix */
  FOUND ("cafe", "3");            /* diacritics folded */
  FOUND ("CRÈME", "3");
  FOUND ("banana", "");
  FOUND ("", "");

  /* A hit on a message names it, with a snippet holding the word. */
  hits = ponder_history_search (f->history, "minutes", 0, &error);
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (((PonderHistorySearchHit *) hits->pdata[0])->message_id, ==, m3);
  g_assert_nonnull (strstr (((PonderHistorySearchHit *) hits->pdata[0])->snippet, "minutes"));
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* A match deep in a long message: a one-line snippet around it. */
  {
    g_autoptr(GString) text = g_string_new (NULL);
    const char *snippet;
    gint64 c4;

    for (guint i = 0; i < 200; i++)
      g_string_append (text, "filler words\n");
    g_string_append (text, "the Ärdvark appears here");
    for (guint i = 0; i < 200; i++)
      g_string_append (text, " more filler");
    c4 = create (f, "long");
    add_full (f, c4, 0, PONDER_HISTORY_ROLE_ASSISTANT, text->str, "no animals in here");
    hits = ponder_history_search (f->history, "ardv", 0, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (hits->len, ==, 1);
    snippet = ((PonderHistorySearchHit *) hits->pdata[0])->snippet;
    g_test_message ("snippet: %s", snippet);
    g_assert_true (g_str_has_prefix (snippet, "…"));
    g_assert_true (g_str_has_suffix (snippet, "…"));
    g_assert_nonnull (strstr (snippet, "the Ärdvark appears here"));
    g_assert_null (strchr (snippet, '\n'));
    g_assert_cmpuint (g_utf8_strlen (snippet, -1), <=, 130);
    g_clear_pointer (&hits, g_ptr_array_unref);

    /* A hit in the reasoning shows the reasoning. */
    hits = ponder_history_search (f->history, "animals", 0, &error);
    g_assert_cmpuint (hits->len, ==, 1);
    g_assert_cmpstr (((PonderHistorySearchHit *) hits->pdata[0])->snippet, ==,
                     "no animals in here");
    g_clear_pointer (&hits, g_ptr_array_unref);
    g_assert_true (ponder_history_delete_conversation (f->history, c4, &error));
  }

  /* Edits: the old words go, the new ones come. */
  g_assert_true (ponder_history_update_partial (f->history, m3, "Nine minutes, roughly.", NULL,
                                                &error));
  FOUND ("seven", "1");
  FOUND ("roughly", "2");
  g_assert_true (ponder_history_rename_conversation (f->history, c3, "Espresso", &error));
  FOUND ("cafe", "");
  FOUND ("espresso", "3");

  /* Deletes hide hits; undo brings them back; purge drops them. */
  g_assert_true (ponder_history_delete_message (f->history, m2, &error));
  FOUND ("roughly", "");
  FOUND ("egg", "");
  FOUND ("cooking", "2");         /* the title still matches */
  g_assert_true (ponder_history_undelete_message (f->history, m2, &error));
  FOUND ("roughly", "2");
  g_assert_true (ponder_history_delete_conversation (f->history, c1, &error));
  FOUND ("prime", "");
  g_assert_true (ponder_history_delete_message (f->history, m3, &error));
  g_assert_true (ponder_history_purge (f->history, &error));
  FOUND ("roughly", "");
  FOUND ("prime", "");
  g_assert_true (ponder_history_undelete_conversation (f->history, c1, &error) == FALSE);
  g_clear_error (&error);

  /* The purge emptied the index too (cascaded deletes fire the triggers);
   * an external-content index would otherwise keep stale rowids. */
  {
    sqlite3 *raw = history_test_raw_open (f->path);

    g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages_fts"
                                                " WHERE messages_fts MATCH 'roughly OR prime'"),
                     ==, 0);
    g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM conversations_fts"
                                                " WHERE conversations_fts MATCH 'prime'"), ==, 0);
    g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages_fts"
                                                " WHERE messages_fts MATCH 'egg'"), ==, 1);

    history_test_raw_exec (raw, "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')");
    history_test_raw_exec (raw, "INSERT INTO conversations_fts (conversations_fts)"
                                " VALUES ('integrity-check')");
    sqlite3_close (raw);
  }
#undef FOUND
}

/* What the user types must never be FTS5 syntax. */
static void
test_search_hostile (Fixture       *f,
                     gconstpointer  data)
{
  static const char * const hostile[] = {
    "\"", "\"\"", "\"unbalanced", "unbalanced\"", "(", ")", "((a)", "AND", "OR", "NOT",
    "a AND", "OR b", "NEAR(a b)", "NEAR(", "a:b", "content:secret", "reasoning:", "*", "a*b",
    "^start", "-minus", "+plus", "{a b}:x", "'", "\\", "\x01\x02", "\xff\xfe broken utf8",
    "a \"b\" c", "🙂", "   ", "\t\n", ":", "\"\"\"\"\"", "secret OR nothing", "NOT secret",
    "col:\"x\" OR y NEAR(z)", "%", "_", ";DROP TABLE messages;--",
  };
  g_autoptr(GError) error = NULL;
  gint64 c;

  c = create (f, "plain");
  add_full (f, c, 0, PONDER_HISTORY_ROLE_USER, "the secret word is unbalanced (sic) \"quoted\"",
            NULL);

  for (guint i = 0; i < G_N_ELEMENTS (hostile); i++)
    {
      g_autoptr(GPtrArray) hits = ponder_history_search (f->history, hostile[i], 10, &error);
      g_autofree char *printable = g_strescape (hostile[i], NULL);

      /* Escaped: TAP output must stay valid UTF-8 whatever the query holds. */
      g_test_message ("query %u: %s", i, printable);
      g_assert_no_error (error);
      g_assert_nonnull (hits);
    }

  /* 100 KB of one line, words and operators mixed. */
  {
    g_autoptr(GString) huge = g_string_new (NULL);
    g_autoptr(GPtrArray) hits = NULL;

    while (huge->len < 100 * 1024)
      g_string_append (huge, "secret \"( OR NEAR* ");
    hits = ponder_history_search (f->history, huge->str, 10, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (hits->len, ==, 0);
  }

  /* Operators are words: "OR" and "NOT" are not in the message. */
  {
    g_autofree char *got = found (f, "secret OR nothing");
    g_assert_cmpstr (got, ==, "");
    g_free (got);
    got = found (f, "\"unbalanced");
    g_assert_cmpstr (got, ==, "1");
    g_free (got);
    got = found (f, "(sic)");
    g_assert_cmpstr (got, ==, "1");
    g_free (got);
    got = found (f, "content:secret");   /* one word "content:secret": no such phrase */
    g_assert_cmpstr (got, ==, "");
    g_free (got);
    got = found (f, "\"quoted\" secret");
    g_assert_cmpstr (got, ==, "1");
  }

  /* The tables are intact. */
  {
    sqlite3 *raw = history_test_raw_open (f->path);
    g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages"), ==, 1);
    sqlite3_close (raw);
  }
}

/* Builds: u1 ─┬─ a1 (reasoning) ── u2 ── a2 (incomplete)
 *             └─ a1b                      and a discarded root u0. */
static gint64
build_rich (Fixture  *f,
            gint64   *out_a1b)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistoryMessage) a1 = NULL;
  PonderHistorySampling s = { 0.5, 0.9, 30, 0.02, 1.1, 1000, 77, 256, FALSE };
  gint64 c, u0, u1, a1_id, u2, a2;

  c = create (f, "Rich \"title\" with\nnewline");
  g_assert_true (ponder_history_set_conversation_settings (f->history, c, "r1-tiny", "Be terse.",
                                                           &s, &error));
  u0 = add_full (f, c, 0, PONDER_HISTORY_ROLE_USER, "discarded first try", NULL);
  u1 = add_full (f, c, 0, PONDER_HISTORY_ROLE_USER, "Explain <span>&amp; \\ \"quotes\" ünïcödé",
                 NULL);
  a1 = ponder_history_message_new (PONDER_HISTORY_ROLE_ASSISTANT, "Answer one.\n\n| a | b |");
  g_free (a1->reasoning);
  a1->reasoning = g_strdup ("First I think.\nThen I think more.");
  a1->model = g_strdup ("r1-tiny");
  a1->has_sampling = TRUE;
  a1->sampling = s;
  a1->reasoning_s = 12.0;
  a1->time_to_first_token_s = 0.5;
  a1->tokens_per_s = 20.25;
  a1->n_prompt_tokens = 11;
  a1->n_reasoning_tokens = 40;
  a1->n_answer_tokens = 6;
  a1->reasoning_expanded = TRUE;
  a1_id = ponder_history_add_message (f->history, c, u1, a1, &error);
  g_assert_no_error (error);
  *out_a1b = add_full (f, c, u1, PONDER_HISTORY_ROLE_ASSISTANT, "Answer one, again.", NULL);
  g_assert_true (ponder_history_select_message (f->history, a1_id, &error));
  u2 = add_full (f, c, a1_id, PONDER_HISTORY_ROLE_USER, "More?", NULL);
  a2 = add_full (f, c, u2, PONDER_HISTORY_ROLE_ASSISTANT, "Partial", NULL);
  g_assert_true (ponder_history_update_partial (f->history, a2, "Partial ans", NULL, &error));
  g_assert_no_error (error);
  (void) u0;
  return c;
}

static void
test_export_markdown (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *md = NULL;
  gint64 c, a1b;

  c = build_rich (f, &a1b);
  md = ponder_history_export_markdown (f->history, c, &error);
  g_assert_no_error (error);
  g_test_message ("%s", md);

  g_assert_true (g_str_has_prefix (md, "# Rich \"title\" with\nnewline\n\n"));
  g_assert_nonnull (strstr (md, "## System\n\nBe terse.\n"));
  g_assert_nonnull (strstr (md, "## User\n\nExplain <span>&amp; \\ \"quotes\" ünïcödé\n"));
  g_assert_nonnull (strstr (md, "> **Reasoning** (thought for 12 s)\n>\n"
                                "> First I think.\n> Then I think more.\n\nAnswer one.\n\n| a | b |\n"));
  g_assert_nonnull (strstr (md, "## User\n\nMore?\n"));
  g_assert_nonnull (strstr (md, "Partial ans\n\n*(This answer is incomplete.)*"));
  /* Only the active branch. */
  g_assert_null (strstr (md, "discarded"));
  g_assert_null (strstr (md, "again"));
}

static JsonObject *
parse_object (const char *json,
              JsonParser *parser)
{
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

/* The JSON holds what the test stored, read back with json-glib. */
static void
test_export_json (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *json = NULL;
  JsonObject *root, *settings, *a1, *timings, *tokens;
  JsonArray *messages;
  gint64 c, a1b;

  c = build_rich (f, &a1b);
  json = ponder_history_export_json (f->history, c, &error);
  g_assert_no_error (error);
  root = parse_object (json, parser);

  g_assert_cmpstr (json_object_get_string_member (root, "format"), ==, "ponder-conversation");
  g_assert_cmpint (json_object_get_int_member (root, "version"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (root, "title"), ==,
                   "Rich \"title\" with\nnewline");
  g_assert_cmpstr (json_object_get_string_member (root, "system_prompt"), ==, "Be terse.");
  settings = json_object_get_object_member (root, "settings");
  g_assert_cmpfloat (json_object_get_double_member (settings, "temperature"), ==, 0.5);
  g_assert_cmpint (json_object_get_int_member (settings, "seed"), ==, 77);
  messages = json_object_get_array_member (root, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 6);

  a1 = json_array_get_object_element (messages, 2);
  g_assert_cmpstr (json_object_get_string_member (a1, "role"), ==, "assistant");
  g_assert_cmpstr (json_object_get_string_member (a1, "reasoning"), ==,
                   "First I think.\nThen I think more.");
  g_assert_true (json_object_get_boolean_member (a1, "reasoning_expanded"));
  timings = json_object_get_object_member (a1, "timings");
  tokens = json_object_get_object_member (a1, "tokens");
  g_assert_cmpfloat (json_object_get_double_member (timings, "tokens_per_s"), ==, 20.25);
  g_assert_cmpint (json_object_get_int_member (tokens, "reasoning"), ==, 40);
  g_assert_true (json_object_get_null_member (json_array_get_object_element (messages, 0),
                                              "sampling"));
  g_assert_false (json_object_get_boolean_member (json_array_get_object_element (messages, 5),
                                                  "complete"));
}

/* Compares two subtrees' texts and choices, walking them in parallel. */
static void
assert_same_tree (PonderHistory *h,
                  GPtrArray     *a,
                  GPtrArray     *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    {
      PonderHistoryMessage *x = g_ptr_array_index (a, i);
      PonderHistoryMessage *y = g_ptr_array_index (b, i);

      g_assert_cmpint (x->role, ==, y->role);
      g_assert_cmpstr (x->content, ==, y->content);
      g_assert_cmpstr (x->reasoning, ==, y->reasoning);
      g_assert_cmpstr (x->model, ==, y->model);
      g_assert_cmpint (x->has_sampling, ==, y->has_sampling);
      g_assert_cmpmem (&x->sampling, sizeof x->sampling, &y->sampling, sizeof y->sampling);
      g_assert_cmpfloat (x->reasoning_s, ==, y->reasoning_s);
      g_assert_cmpfloat (x->time_to_first_token_s, ==, y->time_to_first_token_s);
      g_assert_cmpfloat (x->tokens_per_s, ==, y->tokens_per_s);
      g_assert_cmpint (x->n_prompt_tokens, ==, y->n_prompt_tokens);
      g_assert_cmpint (x->n_reasoning_tokens, ==, y->n_reasoning_tokens);
      g_assert_cmpint (x->n_answer_tokens, ==, y->n_answer_tokens);
      g_assert_cmpint (x->reasoning_expanded, ==, y->reasoning_expanded);
      g_assert_cmpint (x->complete, ==, y->complete);
      g_assert_cmpint (x->created_us, ==, y->created_us);
      g_assert_cmpuint (x->sibling_index, ==, y->sibling_index);
      g_assert_cmpuint (x->n_siblings, ==, y->n_siblings);
    }
}

static void
test_import_round_trip (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PonderHistoryConversation) orig = NULL;
  g_autoptr(PonderHistoryConversation) copy = NULL;
  g_autoptr(GPtrArray) p1 = NULL;
  g_autoptr(GPtrArray) p2 = NULL;
  g_autoptr(GPtrArray) sib = NULL;
  g_autofree char *json = NULL;
  g_autofree char *md1 = NULL;
  g_autofree char *md2 = NULL;
  gint64 c, c2, a1b;

  c = build_rich (f, &a1b);
  json = ponder_history_export_json (f->history, c, &error);
  g_assert_no_error (error);
  c2 = ponder_history_import_json (f->history, json, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c2, !=, c);

  orig = ponder_history_get_conversation (f->history, c, &error);
  copy = ponder_history_get_conversation (f->history, c2, &error);
  g_assert_cmpstr (orig->title, ==, copy->title);
  g_assert_cmpstr (orig->model, ==, copy->model);
  g_assert_cmpstr (orig->system_prompt, ==, copy->system_prompt);
  g_assert_cmpint (orig->created_us, ==, copy->created_us);
  g_assert_cmpmem (&orig->sampling, sizeof orig->sampling, &copy->sampling, sizeof copy->sampling);

  /* Same active path, and the same once each branch point is switched. */
  p1 = ponder_history_list_active_path (f->history, c, &error);
  p2 = ponder_history_list_active_path (f->history, c2, &error);
  assert_same_tree (f->history, p1, p2);
  g_assert_cmpuint (p1->len, ==, 4);

  /* Switch the answer branch in both copies and compare again. */
  g_assert_true (ponder_history_select_message (f->history, a1b, &error));
  sib = ponder_history_list_siblings (f->history,
                                      ((PonderHistoryMessage *) p2->pdata[1])->id, &error);
  g_assert_cmpuint (sib->len, ==, 2);
  g_assert_true (ponder_history_select_message (f->history,
                                                ((PonderHistoryMessage *) sib->pdata[1])->id,
                                                &error));
  g_assert_no_error (error);
  g_clear_pointer (&p1, g_ptr_array_unref);
  g_clear_pointer (&p2, g_ptr_array_unref);
  p1 = ponder_history_list_active_path (f->history, c, &error);
  p2 = ponder_history_list_active_path (f->history, c2, &error);
  assert_same_tree (f->history, p1, p2);
  g_assert_cmpstr (((PonderHistoryMessage *) p2->pdata[1])->content, ==, "Answer one, again.");

  /* And the Markdown of both reads the same. */
  md1 = ponder_history_export_markdown (f->history, c, &error);
  md2 = ponder_history_export_markdown (f->history, c2, &error);
  g_assert_cmpstr (md1, ==, md2);
}

static void
test_import_invalid (Fixture       *f,
                     gconstpointer  data)
{
  static const struct { const char *json; int code; } bad[] = {
    { "", PONDER_HISTORY_ERROR_INVALID },
    { "{", PONDER_HISTORY_ERROR_INVALID },
    { "[]", PONDER_HISTORY_ERROR_INVALID },
    { "{\"format\": \"something\", \"version\": 1, \"title\": \"t\", \"messages\": []}",
      PONDER_HISTORY_ERROR_INVALID },
    { "{\"format\": \"ponder-conversation\", \"version\": 99, \"title\": \"t\", \"messages\": []}",
      PONDER_HISTORY_ERROR_TOO_NEW },
    { "{\"format\": \"ponder-conversation\", \"version\": 1, \"title\": 5, \"messages\": []}",
      PONDER_HISTORY_ERROR_INVALID },
    { "{\"format\": \"ponder-conversation\", \"version\": 1, \"title\": \"t\"}",
      PONDER_HISTORY_ERROR_INVALID },
    /* A parent that comes later (or a cycle). */
    { "{\"format\": \"ponder-conversation\", \"version\": 1, \"title\": \"t\", \"messages\": ["
      "{\"id\": 1, \"parent\": 2, \"role\": \"user\", \"content\": \"a\"},"
      "{\"id\": 2, \"parent\": 1, \"role\": \"user\", \"content\": \"b\"}]}",
      PONDER_HISTORY_ERROR_INVALID },
    { "{\"format\": \"ponder-conversation\", \"version\": 1, \"title\": \"t\", \"messages\": ["
      "{\"id\": 1, \"role\": \"user\", \"content\": \"a\"},"
      "{\"id\": 1, \"role\": \"user\", \"content\": \"b\"}]}",
      PONDER_HISTORY_ERROR_INVALID },
    { "{\"format\": \"ponder-conversation\", \"version\": 1, \"title\": \"t\", \"messages\": ["
      "{\"id\": 1, \"role\": \"wizard\", \"content\": \"a\"}]}",
      PONDER_HISTORY_ERROR_INVALID },
    { "{\"format\": \"ponder-conversation\", \"version\": 1, \"title\": \"t\", \"messages\": ["
      "{\"id\": 1, \"role\": \"user\", \"content\": [1]}]}",
      PONDER_HISTORY_ERROR_INVALID },
    { "{\"format\": \"ponder-conversation\", \"version\": 1, \"title\": \"t\", \"messages\": ["
      "{\"id\": 1, \"role\": \"user\", \"content\": \"a\", \"created\": \"yesterday\"}]}",
      PONDER_HISTORY_ERROR_INVALID },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  sqlite3 *raw;
  gint64 id;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("bad import %u", i);
      g_assert_cmpint (ponder_history_import_json (f->history, bad[i].json, -1, &error), ==, 0);
      g_assert_error (error, PONDER_HISTORY_ERROR, bad[i].code);
      g_clear_error (&error);
    }

  /* Nothing was half-imported. */
  raw = history_test_raw_open (f->path);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM conversations"), ==, 0);
  g_assert_cmpint (history_test_raw_int (raw, "SELECT count(*) FROM messages"), ==, 0);
  sqlite3_close (raw);

  /* A minimal hand-written file loads with defaults. */
  id = ponder_history_import_json (f->history,
                                   "{\"format\": \"ponder-conversation\", \"version\": 1,"
                                   " \"title\": \"hand\", \"messages\": ["
                                   "{\"id\": 10, \"role\": \"user\", \"content\": \"hi\"},"
                                   "{\"id\": 20, \"parent\": 10, \"role\": \"assistant\","
                                   " \"content\": \"hello\"}]}", -1, &error);
  g_assert_no_error (error);
  list = ponder_history_list_active_path (f->history, id, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((PonderHistoryMessage *) list->pdata[1])->content, ==, "hello");
}

static void
async_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* The async search reads through its own connection while this one holds
 * a write transaction open, and a cancelled search reports so. */
static void
test_search_async (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) opened = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(PonderHistory) second = NULL;
  gint64 c;

  c = create (f, "async");
  add_full (f, c, 0, PONDER_HISTORY_ROLE_USER, "committed walrus", NULL);
  g_assert_true (g_main_context_acquire (NULL));

  ponder_history_new_async (f->path, 0, NULL, async_done_cb, &opened);
  second = ponder_history_new_finish (wait_for (&opened), &error);
  g_assert_no_error (error);
  g_assert_true (PONDER_IS_HISTORY (second));

  history_test_raw_exec (_ponder_history_get_db (f->history),
                         "BEGIN IMMEDIATE; UPDATE messages SET content = 'uncommitted';");
  ponder_history_search_async (f->history, "walrus", 0, NULL, async_done_cb, &result);
  hits = ponder_history_search_finish (f->history, wait_for (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpstr (((PonderHistorySearchHit *) hits->pdata[0])->snippet, ==, "committed walrus");
  history_test_raw_exec (_ponder_history_get_db (f->history), "ROLLBACK");
  g_clear_object (&result);
  g_clear_pointer (&hits, g_ptr_array_unref);

  g_cancellable_cancel (cancellable);
  ponder_history_search_async (f->history, "walrus", 0, cancellable, async_done_cb, &result);
  hits = ponder_history_search_finish (f->history, wait_for (&result), &error);
  g_assert_null (hits);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_main_context_release (NULL);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add (name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/history/search/basic", test_search);
  ADD ("/history/search/hostile", test_search_hostile);
  ADD ("/history/search/async", test_search_async);
  ADD ("/history/export/markdown", test_export_markdown);
  ADD ("/history/export/json", test_export_json);
  ADD ("/history/import/round-trip", test_import_round_trip);
  ADD ("/history/import/invalid", test_import_invalid);
#undef ADD

  return g_test_run ();
}
