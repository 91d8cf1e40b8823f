/* ponder-window-private.h — what ponder-window.c shares with its actions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "ponder-engine.h"
#include "ponder-generation.h"
#include "ponder-message-row.h"
#include "ponder-model-load.h"
#include "ponder-window.h"
#include "ponder-window-models.h"

G_BEGIN_DECLS

struct _PonderWindow
{
  AdwApplicationWindow   parent_instance;

  /* Template children */
  AdwToastOverlay       *toast_overlay;
  AdwLeaflet            *leaflet;
  GtkWidget             *content;
  GtkSearchEntry        *search_entry;
  GtkListBox            *conversation_list;
  AdwWindowTitle        *window_title;
  GtkStack              *main_stack;
  GtkStack              *chat_stack;
  GtkScrolledWindow     *scroller;
  GtkWidget             *transcript;
  GtkRevealer           *edit_revealer;
  GtkTextView           *composer;
  GtkWidget             *composer_box;
  GtkWidget             *composer_placeholder;
  GtkWidget             *send_button;
  GtkWidget             *stop_button;

  PonderHistory         *history;
  PonderModel           *model;
  PonderSession         *session;
  char                  *model_name;
  GCancellable          *cancellable;   /* cancelled when the window goes */
  GCancellable          *search_cancellable; /* the sidebar search running */
  gboolean               loading;
  gboolean               disposed;

  /* Models (ponder-window-models.c) */
  GtkWidget             *model_button;    /* template: the header's model menu */
  AdwStatusPage         *loading_page;    /* template */
  GtkProgressBar        *load_progress;   /* template */
  GtkLabel              *load_plan_label; /* template */
  GMenu                 *models_menu;
  GMenu                 *models_list;     /* its first section: the library */
  GMenu                 *running_section; /* its last while a model runs */
  GtkWidget             *running_label;   /* owned: that section's custom item */
  char                  *running_text;
  char                  *model_path;      /* the loaded model's file */
  PonderModelLoad       *model_load;      /* the load in progress */
  guint                  load_poll_id;
  gboolean               load_planned;    /* its plan is shown and imported */
  gint64                 loading_model_id;
  gint64                 model_id;        /* the loaded model in the library */
  PonderModelsDialog    *models_dialog;   /* weak */
  GHashTable            *pending_model_removals;  /* ids whose undo toast is up */
  guint64                memory_limit;    /* 0: plan against what is available */

  gint64                 conversation_id;  /* 0: a new chat not yet stored */
  gboolean               editing;
  gint64                 edit_parent_id;

  PonderGeneration      *generation;
  PonderMessageRow      *generation_row;
  gint64                 generation_message_id;
  GString               *generation_reasoning;
  GString               *generation_answer;
  guint                  flush_id;
  PonderHistoryMessage  *continued;     /* the answer as it was, when continuing */
  gint64                 last_save_us;

  /* The transcript (ponder-window-transcript.c) */
  GPtrArray             *transcript_path;   /* messages shown, system prompt left out */
  gint64                 transcript_conversation_id;
  guint                  transcript_first;  /* the path index of the first row built */
  guint                  older_rows_id;
  gboolean               stick_to_bottom;
  gboolean               drop_oldest;   /* once: the user chose to trim */
  guint                  scroll_tick_id;
  gboolean               has_default_sampling;
  char                  *default_system_prompt;  /* for chats not yet stored */
  PonderHistorySampling  default_sampling;

  /* Soft deletes whose undo toast is still up; purged when it goes. */
  GHashTable            *pending_message_deletes;
  GHashTable            *pending_conversation_deletes;
};

void      _ponder_window_class_actions_init (GtkWidgetClass    *widget_class);
void      _ponder_window_toast              (PonderWindow      *self,
                                             const char        *text);
void      _ponder_window_report_error       (PonderWindow      *self,
                                             const char        *what,
                                             GError            *error);
gboolean  _ponder_window_is_busy            (PonderWindow      *self);
void      _ponder_window_update_actions     (PonderWindow      *self);
void      _ponder_window_apply_reasoning_display (PonderWindow *self);
char     *_ponder_window_dup_composer_text  (PonderWindow      *self);
char     *_ponder_window_make_title         (const char        *text);
void      _ponder_window_refresh_sidebar    (PonderWindow      *self);
void      _ponder_window_rebuild_transcript (PonderWindow      *self);
void      _ponder_window_init_transcript    (PonderWindow      *self);
void      _ponder_window_dispose_transcript (PonderWindow      *self);
void      _ponder_window_start_generation   (PonderWindow      *self,
                                             gint64             parent_id);
gint64    _ponder_window_last_message_id    (PonderWindow      *self,
                                             PonderHistoryRole  role,
                                             gboolean           any_role);
void      _ponder_window_fill_generate_params (PonderWindow                *self,
                                               PonderGenerateParams        *params,
                                               const PonderHistorySampling *sampling);
void      _ponder_window_run_generation     (PonderWindow      *self,
                                             PonderGeneration  *generation);

/* ponder-message-edit.c: edit an answer, continue it, delete a branch */
void      _ponder_window_class_edit_actions_init (GtkWidgetClass *widget_class);
void      _ponder_window_init_edit          (PonderWindow      *self);
void      _ponder_window_purge_pending      (PonderWindow      *self);
void      _ponder_window_update_edit_actions (PonderWindow     *self);
void      _ponder_window_conversation_deleted (PonderWindow    *self,
                                               gint64           conversation_id);
gboolean  _ponder_window_conversation_undeleted (PonderWindow  *self,
                                                 gint64         conversation_id);

G_END_DECLS
