/* ponder-window-transcript.c — the window's transcript: rows and scrolling
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Laying out a row costs far more than building it (every wrapped label is
 * shaped by Pango for the width), and a GtkBox lays out all its children.
 * So a conversation opens with its newest rows only; older rows are built
 * a batch at a time while less than a screen of them is left above the
 * view, and the scroll position is moved by their height so nothing jumps.
 * A refresh keeps the rows that would come out the same and rebuilds from
 * the first one that changed, so switching a version or finishing an
 * answer does not lay out the whole conversation again.
 */

#define G_LOG_DOMAIN "ponder-window"

#include <glib/gi18n.h>

#include "ponder-message-row.h"
#include "ponder-settings.h"
#include "ponder-window-private.h"

/* bench-app's 100-message conversation took 0.37 s of CPU to its first
 * frame with every row built, most of it shaping the text of rows far above
 * the view. Rows are built until their estimated height (below) reaches two
 * screens at first, one screen for each batch of older rows. */
#define MAX_ROWS_PER_BATCH   24
#define ROW_BASE_PX          90   /* a row's margins, card header and footer */
#define LINE_PX              22
#define CHARS_PER_LINE       100
#define STICK_SLACK_PX       40.0

static gboolean
scroll_to_bottom_tick (GtkWidget     *widget,
                       GdkFrameClock *clock,
                       gpointer       user_data)
{
  PonderWindow *self = PONDER_WINDOW (user_data);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);

  self->scroll_tick_id = 0;
  if (self->stick_to_bottom)
    gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj)
                                   - gtk_adjustment_get_page_size (adj));
  return G_SOURCE_REMOVE;
}

static gboolean build_older_rows (gpointer user_data);

/* Older rows are wanted while less than a screen of rows is above the view
 * (where the view is about to be, when it follows the bottom). */
static void
want_older_rows (PonderWindow *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);
  double page = gtk_adjustment_get_page_size (adj);
  double above = self->stick_to_bottom ? gtk_adjustment_get_upper (adj) - page
                                       : gtk_adjustment_get_value (adj);

  if (self->transcript_first == 0 || self->older_rows_id != 0 || page <= 0 || above >= page)
    return;
  /* After the frame that showed the rows built so far. */
  self->older_rows_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, build_older_rows, self, NULL);
}

/* Scrolling inside the allocation that grew the content is undone by the
 * viewport, so the jump to the bottom waits for the next frame. */
static void
on_upper_changed (PonderWindow *self)
{
  if (self->stick_to_bottom && self->scroll_tick_id == 0)
    self->scroll_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self->scroller),
                                                         scroll_to_bottom_tick, self, NULL);
  want_older_rows (self);
}

static void
on_value_changed (PonderWindow *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);
  double bottom = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);

  /* Follow new text unless the user has scrolled up to read. */
  self->stick_to_bottom = gtk_adjustment_get_value (adj) >= bottom - STICK_SLACK_PX;
  want_older_rows (self);
}

static gboolean
is_streaming (PonderWindow               *self,
              const PonderHistoryMessage *message)
{
  return _ponder_window_is_busy (self) && message->id == self->generation_message_id;
}

static GtkWidget *
make_row (PonderWindow               *self,
          const PonderHistoryMessage *message,
          gboolean                    expand_reasoning)
{
  gboolean streaming = is_streaming (self, message);
  GtkWidget *row = ponder_message_row_new (message, streaming);

  if (!streaming && expand_reasoning)
    ponder_message_row_set_expanded (PONDER_MESSAGE_ROW (row), TRUE);
  if (!streaming && ponder_settings_get_reasoning_display () == PONDER_REASONING_HIDDEN)
    ponder_message_row_set_reasoning_hidden (PONDER_MESSAGE_ROW (row), TRUE);
  if (streaming)
    self->generation_row = PONDER_MESSAGE_ROW (row);
  return row;
}

/* Deliberately rough (no text is laid out): it only decides how many rows
 * to build, and the rows built later make up for a short guess. */
static double
estimate_height (const PonderHistoryMessage *message,
                 gboolean                    expand_reasoning)
{
  double lines = strlen (message->content) / (double) CHARS_PER_LINE;
  const char *p;

  for (p = strchr (message->content, '\n'); p != NULL; p = strchr (p + 1, '\n'))
    lines++;
  if (expand_reasoning)
    lines += strlen (message->reasoning) / (double) CHARS_PER_LINE;
  return ROW_BASE_PX + LINE_PX * lines;
}

/* How many rows before path index @end to build for @height pixels. */
static guint
rows_for_height (GPtrArray *path,
                 guint      end,
                 double     height,
                 gboolean   expand)
{
  double sum = 0.0;
  guint n = 0;

  while (n < end && n < MAX_ROWS_PER_BATCH && sum < height)
    sum += estimate_height (g_ptr_array_index (path, end - ++n), expand);
  return n;
}

/* The height of a screen of transcript: the view's, or before it was ever
 * laid out, the window's. */
static double
screen_height (PonderWindow *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);
  double page = gtk_adjustment_get_page_size (adj);
  int window = gtk_widget_get_height (GTK_WIDGET (self));

  return page > 0 ? page : window > 0 ? window : 800;
}

static gboolean
expand_reasoning (void)
{
  return ponder_settings_get_reasoning_display () == PONDER_REASONING_EXPANDED;
}

/* The past-reasoning preference changed: apply it to the rows built (the
 * answer being generated keeps its card as it is). */
void
_ponder_window_apply_reasoning_display (PonderWindow *self)
{
  PonderReasoningDisplay display = ponder_settings_get_reasoning_display ();
  GtkWidget *child;

  for (child = gtk_widget_get_first_child (self->transcript); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (!PONDER_IS_MESSAGE_ROW (child) || child == (GtkWidget *) self->generation_row)
        continue;
      ponder_message_row_set_reasoning_hidden (PONDER_MESSAGE_ROW (child),
                                               display == PONDER_REASONING_HIDDEN);
      ponder_message_row_set_expanded (PONDER_MESSAGE_ROW (child),
                                       display == PONDER_REASONING_EXPANDED);
    }
}

/* Builds the batch of rows just above the first one, and moves the view
 * down by their height (upper too: it is only updated at the next layout,
 * and the value may not pass it), so that what the user reads stays put. */
static gboolean
build_older_rows (gpointer user_data)
{
  PonderWindow *self = PONDER_WINDOW (user_data);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);
  int width = gtk_widget_get_width (self->transcript);
  int spacing = gtk_box_get_spacing (GTK_BOX (self->transcript));
  gboolean expand = expand_reasoning ();
  guint first = self->transcript_first;
  guint start = first - rows_for_height (self->transcript_path, first, screen_height (self),
                                         expand);
  GtkWidget *previous = NULL;
  double added = 0.0;
  guint i;

  self->older_rows_id = 0;
  for (i = start; i < first; i++)
    {
      GtkWidget *row = make_row (self, g_ptr_array_index (self->transcript_path, i), expand);
      int height = 0;

      gtk_box_insert_child_after (GTK_BOX (self->transcript), row, previous);
      previous = row;
      /* The layout measures at the same width and reuses this. */
      if (width > 0)
        gtk_widget_measure (row, GTK_ORIENTATION_VERTICAL, width, &height, NULL, NULL, NULL);
      added += height + spacing;
    }
  self->transcript_first = start;
  if (width > 0)
    gtk_adjustment_configure (adj, gtk_adjustment_get_value (adj) + added,
                              gtk_adjustment_get_lower (adj),
                              gtk_adjustment_get_upper (adj) + added,
                              gtk_adjustment_get_step_increment (adj),
                              gtk_adjustment_get_page_increment (adj),
                              gtk_adjustment_get_page_size (adj));
  return G_SOURCE_REMOVE;
}

static void
clear_rows (PonderWindow *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->transcript)) != NULL)
    gtk_box_remove (GTK_BOX (self->transcript), child);
}

/* Shows the active path of the conversation: rows that still show their
 * message stay, the rest is rebuilt. A newly opened conversation starts
 * at its end with its newest rows. */
void
_ponder_window_rebuild_transcript (PonderWindow *self)
{
  g_autoptr(GPtrArray) path = NULL;
  g_autoptr(GError) error = NULL;
  gboolean expand = expand_reasoning ();
  gboolean same = self->transcript_path != NULL
                  && self->transcript_conversation_id == self->conversation_id;
  GtkWidget *child = gtk_widget_get_first_child (self->transcript);
  guint i = self->transcript_first;
  guint n;

  if (self->conversation_id != 0)
    {
      path = ponder_history_list_active_path (self->history, self->conversation_id, &error);
      if (path == NULL)
        _ponder_window_report_error (self, _("Could not read the conversation"), error);
    }
  /* A streaming row is never kept, so it goes now whatever happens. */
  self->generation_row = NULL;
  if (path == NULL)
    path = g_ptr_array_new_with_free_func ((GDestroyNotify) ponder_history_message_free);
  for (n = path->len; n > 0; n--)
    if (((PonderHistoryMessage *) g_ptr_array_index (path, n - 1))->role
        == PONDER_HISTORY_ROLE_SYSTEM)
      g_ptr_array_remove_index (path, n - 1);

  /* The same messages sit at the same places of the old and new paths up
   * to the first change (a branch point, a deleted or an added message). */
  if (same)
    for (; child != NULL && i < path->len; child = gtk_widget_get_next_sibling (child), i++)
      {
        const PonderHistoryMessage *message = g_ptr_array_index (path, i);

        if (!ponder_message_row_shows (PONDER_MESSAGE_ROW (child), message,
                                       is_streaming (self, message)))
          break;
      }
  if (!same || child == gtk_widget_get_first_child (self->transcript))
    {
      clear_rows (self);
      g_clear_handle_id (&self->older_rows_id, g_source_remove);
      self->transcript_first = path->len - rows_for_height (path, path->len,
                                                            2 * screen_height (self), expand);
      i = self->transcript_first;
      self->stick_to_bottom = TRUE;
    }
  else
    while (child != NULL)
      {
        GtkWidget *next = gtk_widget_get_next_sibling (child);

        gtk_box_remove (GTK_BOX (self->transcript), child);
        child = next;
      }
  for (; i < path->len; i++)
    gtk_box_append (GTK_BOX (self->transcript),
                    make_row (self, g_ptr_array_index (path, i), expand));

  /* A new answer is followed as it streams. */
  if (_ponder_window_is_busy (self))
    self->stick_to_bottom = TRUE;
  g_clear_pointer (&self->transcript_path, g_ptr_array_unref);
  self->transcript_path = g_steal_pointer (&path);
  self->transcript_conversation_id = self->conversation_id;

  gtk_stack_set_visible_child_name (self->chat_stack,
                                    self->transcript_path->len > 0 ? "transcript" : "welcome");
  _ponder_window_update_title (self);
  _ponder_window_update_actions (self);
}

void
_ponder_window_init_transcript (PonderWindow *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scroller);

  self->stick_to_bottom = TRUE;
  g_signal_connect_object (adj, "notify::upper", G_CALLBACK (on_upper_changed), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (adj, "value-changed", G_CALLBACK (on_value_changed), self,
                           G_CONNECT_SWAPPED);
}

void
_ponder_window_dispose_transcript (PonderWindow *self)
{
  g_clear_handle_id (&self->older_rows_id, g_source_remove);
  if (self->scroll_tick_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->scroller), self->scroll_tick_id);
  self->scroll_tick_id = 0;
  self->generation_row = NULL;
  g_clear_pointer (&self->transcript_path, g_ptr_array_unref);
}
