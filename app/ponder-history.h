/* ponder-history.h — the conversation history store (SQLite)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One SQLite database holds every conversation. Messages form a tree: editing
 * a user message or regenerating an answer adds a sibling, and each parent
 * remembers which child the user chose, so the active branch survives a
 * restart. Deletes are soft until ponder_history_purge(), so they can be
 * undone.
 *
 * A PonderHistory is a single connection. Call it from one thread at a time
 * (the main thread, or a worker that owns it); every call is synchronous and
 * short, except search, export, import and purge on very large histories.
 *
 * Names follow the GNOME habit: get_ and list_ return owned results that the
 * caller frees (g_autoptr works on every record type below).
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The schema version this build writes (PRAGMA user_version). */
#define PONDER_HISTORY_SCHEMA_VERSION 3

/* Default busy timeout: how long a write waits for another connection to
 * release the database before failing with PONDER_HISTORY_ERROR_BUSY. */
#define PONDER_HISTORY_DEFAULT_BUSY_TIMEOUT_MS 5000

#define PONDER_HISTORY_ERROR (ponder_history_error_quark ())

typedef enum
{
  PONDER_HISTORY_ERROR_FAILED,      /* anything not listed below */
  PONDER_HISTORY_ERROR_BUSY,        /* another program holds the lock */
  PONDER_HISTORY_ERROR_CORRUPT,     /* the file is damaged or not a database */
  PONDER_HISTORY_ERROR_READ_ONLY,   /* the file or its folder is read-only */
  PONDER_HISTORY_ERROR_DISK_FULL,   /* no space left */
  PONDER_HISTORY_ERROR_CANT_OPEN,   /* the file or its folder cannot be opened */
  PONDER_HISTORY_ERROR_IO,          /* the disk reported an I/O error */
  PONDER_HISTORY_ERROR_TOO_NEW,     /* written by a newer Ponder */
  PONDER_HISTORY_ERROR_NOT_FOUND,   /* no such (live) conversation or message */
  PONDER_HISTORY_ERROR_INVALID,     /* bad argument or bad import file */
} PonderHistoryError;

GQuark ponder_history_error_quark (void);

typedef enum
{
  PONDER_HISTORY_ROLE_SYSTEM,
  PONDER_HISTORY_ROLE_USER,
  PONDER_HISTORY_ROLE_ASSISTANT,
} PonderHistoryRole;

const char *ponder_history_role_to_string   (PonderHistoryRole  role);
gboolean    ponder_history_role_from_string (const char        *str,
                                             PonderHistoryRole *out_role);

/* Sampling and reasoning settings. Conversations hold their own; each answer
 * keeps a snapshot of the settings that produced it. */
typedef struct
{
  double   temperature;       /* 0 = greedy */
  double   top_p;             /* 1 = off */
  gint     top_k;             /* 0 = off */
  double   min_p;             /* 0 = off */
  double   repeat_penalty;    /* 1 = off */
  gint     max_tokens;        /* 0 = until the context is full */
  gint64   seed;              /* -1 = a new random seed for each run */
  gint     reasoning_budget;  /* reasoning tokens; -1 = unlimited */
  gboolean skip_reasoning;    /* start the answer with an empty think block */
} PonderHistorySampling;

/* DeepSeek's recommendation for R1: temperature 0.6, top-p 0.95, no other
 * filters, no system prompt. */
void ponder_history_sampling_init_default (PonderHistorySampling *sampling);

typedef struct
{
  gint64                id;
  char                 *title;
  gint64                created_us;     /* Unix time, microseconds */
  gint64                updated_us;
  char                 *model;          /* nullable */
  char                 *system_prompt;  /* nullable; R1 works best without */
  PonderHistorySampling sampling;
} PonderHistoryConversation;

typedef struct
{
  gint64                id;
  gint64                conversation_id;
  gint64                parent_id;      /* 0 for a root message */
  PonderHistoryRole     role;
  char                 *content;        /* never NULL */
  char                 *reasoning;      /* never NULL; "" when none */
  char                 *model;          /* nullable */
  gboolean              has_sampling;   /* FALSE for messages the user wrote */
  PonderHistorySampling sampling;
  /* Timings and token counts; negative when unknown. */
  double                reasoning_s;
  double                time_to_first_token_s;
  double                tokens_per_s;
  gint                  n_prompt_tokens;
  gint                  n_reasoning_tokens;
  gint                  n_answer_tokens;
  gboolean              reasoning_expanded;  /* the reasoning card's state */
  gboolean              complete;            /* FALSE while streaming or when cut off */
  gint64                created_us;
  /* Filled by list_active_path and list_siblings, for "‹ 2/3 ›". */
  guint                 sibling_index;       /* 0-based */
  guint                 n_siblings;
} PonderHistoryMessage;

typedef struct
{
  PonderHistoryConversation *conversation;
  gint64                     message_id;  /* 0 when the title matched */
  char                      *snippet;     /* plain text around the match */
} PonderHistorySearchHit;

PonderHistoryMessage *ponder_history_message_new          (PonderHistoryRole          role,
                                                           const char                *content);
void                  ponder_history_message_free         (PonderHistoryMessage      *message);
void                  ponder_history_conversation_free    (PonderHistoryConversation *conversation);
void                  ponder_history_search_hit_free      (PonderHistorySearchHit    *hit);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PonderHistoryMessage, ponder_history_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PonderHistoryConversation, ponder_history_conversation_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PonderHistorySearchHit, ponder_history_search_hit_free)

#define PONDER_TYPE_HISTORY (ponder_history_get_type ())

G_DECLARE_FINAL_TYPE (PonderHistory, ponder_history, PONDER, HISTORY, GObject)

/* Opening and recovery */

char          *ponder_history_dup_default_path       (void);
PonderHistory *ponder_history_new                    (const char     *path,
                                                      guint           busy_timeout_ms,
                                                      GError        **error);
void           ponder_history_new_async              (const char           *path,
                                                      guint                 busy_timeout_ms,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
PonderHistory *ponder_history_new_finish             (GAsyncResult         *result,
                                                      GError              **error);
const char    *ponder_history_get_path               (PonderHistory  *self);
gboolean       ponder_history_move_aside             (const char     *path,
                                                      char          **out_new_path,
                                                      GError        **error);

/* Conversations */

gint64                     ponder_history_create_conversation       (PonderHistory               *self,
                                                                     const char                  *title,
                                                                     const char                  *model,
                                                                     GError                     **error);
PonderHistoryConversation *ponder_history_get_conversation          (PonderHistory               *self,
                                                                     gint64                       conversation_id,
                                                                     GError                     **error);
GPtrArray                 *ponder_history_list_conversations        (PonderHistory               *self,
                                                                     guint                        limit,
                                                                     GError                     **error);
gboolean                   ponder_history_rename_conversation       (PonderHistory               *self,
                                                                     gint64                       conversation_id,
                                                                     const char                  *title,
                                                                     GError                     **error);
gboolean                   ponder_history_set_conversation_settings (PonderHistory               *self,
                                                                     gint64                       conversation_id,
                                                                     const char                  *model,
                                                                     const char                  *system_prompt,
                                                                     const PonderHistorySampling *sampling,
                                                                     GError                     **error);
gboolean                   ponder_history_delete_conversation       (PonderHistory               *self,
                                                                     gint64                       conversation_id,
                                                                     GError                     **error);
gboolean                   ponder_history_undelete_conversation     (PonderHistory               *self,
                                                                     gint64                       conversation_id,
                                                                     GError                     **error);
gboolean                   ponder_history_purge_conversation        (PonderHistory               *self,
                                                                     gint64                       conversation_id,
                                                                     GError                     **error);
gboolean                   ponder_history_purge                     (PonderHistory               *self,
                                                                     GError                     **error);

/* Messages */

gint64                ponder_history_add_message             (PonderHistory               *self,
                                                              gint64                       conversation_id,
                                                              gint64                       parent_id,
                                                              const PonderHistoryMessage  *message,
                                                              GError                     **error);
PonderHistoryMessage *ponder_history_get_message             (PonderHistory               *self,
                                                              gint64                       message_id,
                                                              GError                     **error);
gboolean              ponder_history_update_partial          (PonderHistory               *self,
                                                              gint64                       message_id,
                                                              const char                  *content,
                                                              const char                  *reasoning,
                                                              GError                     **error);
gboolean              ponder_history_finish_message          (PonderHistory               *self,
                                                              const PonderHistoryMessage  *message,
                                                              GError                     **error);
gboolean              ponder_history_set_reasoning_expanded  (PonderHistory               *self,
                                                              gint64                       message_id,
                                                              gboolean                     expanded,
                                                              GError                     **error);
GPtrArray            *ponder_history_list_siblings           (PonderHistory               *self,
                                                              gint64                       message_id,
                                                              GError                     **error);
gboolean              ponder_history_select_message          (PonderHistory               *self,
                                                              gint64                       message_id,
                                                              GError                     **error);
GPtrArray            *ponder_history_list_active_path        (PonderHistory               *self,
                                                              gint64                       conversation_id,
                                                              GError                     **error);
gboolean              ponder_history_delete_message          (PonderHistory               *self,
                                                              gint64                       message_id,
                                                              GError                     **error);
gboolean              ponder_history_undelete_message        (PonderHistory               *self,
                                                              gint64                       message_id,
                                                              GError                     **error);
gboolean              ponder_history_purge_message           (PonderHistory               *self,
                                                              gint64                       message_id,
                                                              GError                     **error);

/* Search, export, import */

GPtrArray *ponder_history_search          (PonderHistory  *self,
                                           const char     *text,
                                           guint           limit,
                                           GError        **error);
void       ponder_history_search_async    (PonderHistory        *self,
                                           const char           *text,
                                           guint                 limit,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
GPtrArray *ponder_history_search_finish   (PonderHistory  *self,
                                           GAsyncResult   *result,
                                           GError        **error);
char      *ponder_history_export_markdown (PonderHistory  *self,
                                           gint64          conversation_id,
                                           GError        **error);
char      *ponder_history_export_json     (PonderHistory  *self,
                                           gint64          conversation_id,
                                           GError        **error);
gint64     ponder_history_import_json     (PonderHistory  *self,
                                           const char     *json,
                                           gssize          length,
                                           GError        **error);

/* The model library (ponder-history-models.c) */

typedef struct
{
  gint64   id;
  char    *path;            /* the GGUF file (for split models, any part) */
  char    *name;            /* never NULL */
  char    *architecture;    /* never NULL */
  guint64  n_params;
  char    *file_type;       /* "Q4_K_M", ...; never NULL */
  guint64  file_size_bytes;
  guint    n_ctx_train;
  guint    n_ctx;           /* the chosen context length; 0 = the default */
  gint64   added_us;
  gint64   last_used_us;    /* 0 = never loaded */
} PonderHistoryModel;

PonderHistoryModel *ponder_history_model_new           (const char                *path);
void                ponder_history_model_free          (PonderHistoryModel        *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PonderHistoryModel, ponder_history_model_free)

gint64              ponder_history_add_model           (PonderHistory             *self,
                                                        const PonderHistoryModel  *model,
                                                        GError                   **error);
PonderHistoryModel *ponder_history_get_model           (PonderHistory             *self,
                                                        gint64                     model_id,
                                                        GError                   **error);
PonderHistoryModel *ponder_history_find_model          (PonderHistory             *self,
                                                        const char                *path,
                                                        GError                   **error);
GPtrArray          *ponder_history_list_models         (PonderHistory             *self,
                                                        GError                   **error);
gboolean            ponder_history_touch_model         (PonderHistory             *self,
                                                        gint64                     model_id,
                                                        GError                   **error);
gboolean            ponder_history_set_model_context   (PonderHistory             *self,
                                                        gint64                     model_id,
                                                        guint                      n_ctx,
                                                        GError                   **error);
gboolean            ponder_history_remove_model        (PonderHistory             *self,
                                                        gint64                     model_id,
                                                        GError                   **error);

G_END_DECLS
