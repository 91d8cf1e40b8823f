/* ponder-message-row.c — one message of the transcript
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A user bubble, or an assistant answer with its reasoning card. Model text
 * only ever reaches gtk_label_set_text(): it is never parsed as Pango markup.
 * Rows are built in code; their few children do not earn a template yet.
 */

#define G_LOG_DOMAIN "ponder-message-row"

#include <glib/gi18n.h>

#include "ponder-markdown.h"
#include "ponder-message-row.h"

/* Lines of the trace shown in the collapsed card while the model thinks. */
#define PREVIEW_LINES 3

struct _PonderMessageRow
{
  GtkWidget          parent_instance;

  gint64             message_id;
  PonderHistoryRole  role;
  gboolean           thinking;     /* reasoning still streaming */
  gboolean           hide_reasoning; /* the "hidden" past-reasoning preference */
  gboolean           streaming;
  gint64             started_us;   /* monotonic, when streaming began */
  /* What the row was built from beyond its text, so that a transcript
   * refresh can keep the rows that would come out the same. */
  gboolean           built_streaming;
  gboolean           complete;
  guint              sibling_index;
  guint              n_siblings;
  double             reasoning_s;
  GString           *reasoning;
  GString           *answer;

  GtkWidget         *box;
  GtkWidget         *card;         /* reasoning card, NULL for user rows */
  GtkWidget         *card_button;
  GtkWidget         *card_title;
  GtkWidget         *card_arrow;
  GtkWidget         *answer_now;
  GtkWidget         *preview;
  GtkWidget         *revealer;
  GtkWidget         *trace;
  GtkWidget         *text;
  GtkWidget         *branch_label;
  GtkWidget         *stopped_label;  /* NULL unless cut off */
  GtkWidget         *continue_button;
};

G_DEFINE_FINAL_TYPE (PonderMessageRow, ponder_message_row, GTK_TYPE_WIDGET)

/**
 * ponder_format_thought_for:
 *
 * Returns: (transfer full): "Thought for 12 seconds", "Thought for 2 minutes
 *   5 seconds", humanised past a minute
 */
char *
ponder_format_thought_for (double seconds)
{
  guint total = (guint) MAX (seconds + 0.5, 0.0);
  guint minutes = total / 60;
  guint rest = total % 60;

  if (seconds < 1.0)
    return g_strdup (_("Thought for less than a second"));
  if (minutes == 0)
    return g_strdup_printf (ngettext ("Thought for %u second", "Thought for %u seconds", total),
                            total);
  if (rest == 0)
    return g_strdup_printf (ngettext ("Thought for %u minute", "Thought for %u minutes", minutes),
                            minutes);
  return g_strdup_printf (_("Thought for %u min %u s"), minutes, rest);
}

/* The header's text is also the card button's accessible name, so a
 * screen reader hears "Thinking… 4 s" or "Thought for 12 seconds" with the
 * expanded state. */
static void
set_card_title (PonderMessageRow *self,
                const char       *title)
{
  gtk_label_set_text (GTK_LABEL (self->card_title), title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->card_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
}

static void
update_card (PonderMessageRow *self)
{
  g_autofree char *title = NULL;
  const char *start;
  const char *p;
  guint lines = 0;

  if (self->card == NULL)
    return;

  gtk_widget_set_visible (self->card, self->thinking
                                      || (self->reasoning->len > 0 && !self->hide_reasoning));

  if (self->thinking)
    {
      double elapsed = (g_get_monotonic_time () - self->started_us) / (double) G_USEC_PER_SEC;

      title = g_strdup_printf (_("Thinking… %.0f s"), elapsed);
      set_card_title (self, title);

      /* The last few lines only, so the collapsed card keeps its height. */
      start = self->reasoning->str;
      for (p = self->reasoning->str + self->reasoning->len; p > self->reasoning->str; p--)
        if (p[-1] == '\n' && ++lines == PREVIEW_LINES)
          {
            start = p;
            break;
          }
      gtk_label_set_text (GTK_LABEL (self->preview), start);
    }
  gtk_widget_set_visible (self->answer_now, self->thinking);
  gtk_widget_set_visible (self->preview,
                          self->thinking
                          && !gtk_revealer_get_reveal_child (GTK_REVEALER (self->revealer)));
}

static void
on_card_clicked (PonderMessageRow *self)
{
  ponder_message_row_set_expanded (self, !ponder_message_row_get_expanded (self));
  if (self->message_id > 0)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.set-reasoning-expanded", "(xb)",
                                self->message_id, ponder_message_row_get_expanded (self));
}

static GtkWidget *
plain_label (const char *text,
             const char *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);

  return label;
}

static void
build_card (PonderMessageRow *self)
{
  GtkWidget *header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *icon = gtk_image_new_from_icon_name ("emoji-objects-symbolic");
  GtkWidget *top;

  self->card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_add_css_class (self->card, "card");
  gtk_widget_add_css_class (self->card, "reasoning-card");

  self->card_title = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->card_title), 0.0);
  gtk_widget_set_hexpand (self->card_title, TRUE);
  self->card_arrow = gtk_image_new_from_icon_name ("pan-end-symbolic");
  gtk_box_append (GTK_BOX (header), icon);
  gtk_box_append (GTK_BOX (header), self->card_title);
  gtk_box_append (GTK_BOX (header), self->card_arrow);

  /* The trace gets its text when first shown: a collapsed revealer still
   * measures its child, and R1's traces run to thousands of words. */
  self->trace = plain_label ("", "reasoning-trace");
  gtk_widget_add_css_class (self->trace, "dim-label");
  self->revealer = gtk_revealer_new ();
  gtk_revealer_set_child (GTK_REVEALER (self->revealer), self->trace);

  self->card_button = gtk_button_new ();
  gtk_button_set_child (GTK_BUTTON (self->card_button), header);
  gtk_widget_add_css_class (self->card_button, "flat");
  gtk_widget_set_tooltip_text (self->card_button, _("Show or hide the reasoning"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->card_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Shows or hides the model’s reasoning"), -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->card_button),
                                  GTK_ACCESSIBLE_RELATION_CONTROLS, self->revealer, NULL, -1);
  g_signal_connect_swapped (self->card_button, "clicked", G_CALLBACK (on_card_clicked), self);

  self->preview = plain_label ("", "reasoning-preview");
  gtk_label_set_selectable (GTK_LABEL (self->preview), FALSE);
  gtk_label_set_lines (GTK_LABEL (self->preview), PREVIEW_LINES);
  gtk_label_set_ellipsize (GTK_LABEL (self->preview), PANGO_ELLIPSIZE_START);
  gtk_widget_add_css_class (self->preview, "dim-label");


  /* Ends the think block now; the model answers from what it has. */
  self->answer_now = gtk_button_new_with_mnemonic (_("_Answer Now"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->answer_now), "win.end-reasoning");
  gtk_widget_add_css_class (self->answer_now, "flat");
  gtk_widget_set_valign (self->answer_now, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->answer_now,
                               _("Stop thinking and answer from the reasoning so far"));
  top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_set_hexpand (self->card_button, TRUE);
  gtk_box_append (GTK_BOX (top), self->card_button);
  gtk_box_append (GTK_BOX (top), self->answer_now);
  gtk_box_append (GTK_BOX (self->card), top);
  gtk_box_append (GTK_BOX (self->card), self->preview);
  gtk_box_append (GTK_BOX (self->card), self->revealer);
  gtk_box_append (GTK_BOX (self->box), self->card);
}

static GtkWidget *
tool_button (const char *icon,
             const char *tooltip,
             const char *action,
             GVariant   *target)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), target);

  return button;
}

static void
build_footer (PonderMessageRow           *self,
              const PonderHistoryMessage *message)
{
  GtkWidget *footer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  g_autofree char *branch = NULL;

  gtk_widget_add_css_class (footer, "message-footer");
  gtk_widget_set_halign (footer, self->role == PONDER_HISTORY_ROLE_USER ? GTK_ALIGN_END
                                                                        : GTK_ALIGN_START);
  if (message->n_siblings > 1)
    {
      g_autofree char *spoken = NULL;

      branch = g_strdup_printf ("%u/%u", message->sibling_index + 1, message->n_siblings);
      /* TRANSLATORS: read out for the "2/3" between the version arrows */
      spoken = g_strdup_printf (_("Version %u of %u"), message->sibling_index + 1,
                                message->n_siblings);
      gtk_box_append (GTK_BOX (footer),
                      tool_button ("go-previous-symbolic", _("Previous version"),
                                   "win.sibling-step",
                                   g_variant_new ("(xi)", self->message_id, -1)));
      self->branch_label = gtk_label_new (branch);
      gtk_widget_add_css_class (self->branch_label, "numeric");
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->branch_label),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, spoken, -1);
      gtk_box_append (GTK_BOX (footer), self->branch_label);
      gtk_box_append (GTK_BOX (footer),
                      tool_button ("go-next-symbolic", _("Next version"),
                                   "win.sibling-step",
                                   g_variant_new ("(xi)", self->message_id, 1)));
    }
  gtk_box_append (GTK_BOX (footer),
                  tool_button ("edit-copy-symbolic", _("Copy as Markdown"), "win.copy-message",
                               g_variant_new_int64 (self->message_id)));
  if (self->role == PONDER_HISTORY_ROLE_USER)
    gtk_box_append (GTK_BOX (footer),
                    tool_button ("document-edit-symbolic", _("Edit"), "win.edit-message",
                                 g_variant_new_int64 (self->message_id)));
  else
    {
      gtk_box_append (GTK_BOX (footer),
                      tool_button ("document-edit-symbolic", _("Edit Answer"),
                                   "win.edit-answer", g_variant_new_int64 (self->message_id)));
      gtk_box_append (GTK_BOX (footer),
                      tool_button ("view-refresh-symbolic", _("Regenerate"),
                                   "win.regenerate-message",
                                   g_variant_new_int64 (self->message_id)));
    }
  gtk_box_append (GTK_BOX (footer),
                  tool_button ("user-trash-symbolic", _("Delete with Its Replies"),
                               "win.delete-message", g_variant_new_int64 (self->message_id)));
  gtk_box_append (GTK_BOX (self->box), footer);
}

static void
ponder_message_row_dispose (GObject *object)
{
  PonderMessageRow *self = PONDER_MESSAGE_ROW (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);

  G_OBJECT_CLASS (ponder_message_row_parent_class)->dispose (object);
}

static void
ponder_message_row_finalize (GObject *object)
{
  PonderMessageRow *self = PONDER_MESSAGE_ROW (object);

  g_string_free (self->reasoning, TRUE);
  g_string_free (self->answer, TRUE);

  G_OBJECT_CLASS (ponder_message_row_parent_class)->finalize (object);
}

static void
ponder_message_row_class_init (PonderMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ponder_message_row_dispose;
  object_class->finalize = ponder_message_row_finalize;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "messagerow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
ponder_message_row_init (PonderMessageRow *self)
{
  self->reasoning = g_string_new (NULL);
  self->answer = g_string_new (NULL);
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
}

/**
 * ponder_message_row_new:
 * @streaming: TRUE for the answer being generated now
 */
GtkWidget *
ponder_message_row_new (const PonderHistoryMessage *message,
                        gboolean                    streaming)
{
  PonderMessageRow *self;

  g_return_val_if_fail (message != NULL, NULL);

  self = g_object_new (PONDER_TYPE_MESSAGE_ROW, NULL);
  self->message_id = message->id;
  self->role = message->role;
  self->streaming = streaming;
  self->built_streaming = streaming;
  self->complete = message->complete;
  self->sibling_index = message->sibling_index;
  self->n_siblings = message->n_siblings;
  self->reasoning_s = message->reasoning_s;
  g_string_assign (self->reasoning, message->reasoning);
  g_string_assign (self->answer, message->content);

  if (self->role == PONDER_HISTORY_ROLE_USER)
    {
      self->text = plain_label (message->content, "user-bubble");
      gtk_widget_set_halign (self->text, GTK_ALIGN_END);
      gtk_widget_add_css_class (GTK_WIDGET (self), "user");
      gtk_box_append (GTK_BOX (self->box), self->text);
    }
  else
    {
      g_autofree char *title = NULL;

      gtk_widget_add_css_class (GTK_WIDGET (self), "assistant");
      build_card (self);
      /* Streaming text stays plain (re-parsing every frame would make the
       * layout jump); a finished answer is rendered as markdown. */
      if (streaming)
        self->text = plain_label (message->content, "answer");
      else
        {
          self->text = ponder_markdown_view_new (message->content);
          gtk_widget_add_css_class (self->text, "answer");
        }
      gtk_box_append (GTK_BOX (self->box), self->text);
      if (streaming)
        {
          self->thinking = message->content[0] == '\0';
          self->started_us = g_get_monotonic_time ();
        }
      if (!self->thinking)
        {
          if (!streaming && !message->complete && message->content[0] == '\0')
            title = g_strdup (_("Stopped while thinking"));
          else
            title = ponder_format_thought_for (message->reasoning_s);
          set_card_title (self, title);
        }
      if (!streaming && !message->complete)
        {
          GtkWidget *line = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
          GtkWidget *stopped = gtk_label_new (_("Stopped before the end"));

          gtk_label_set_xalign (GTK_LABEL (stopped), 0.0);
          gtk_widget_add_css_class (stopped, "dim-label");
          gtk_widget_add_css_class (stopped, "caption");
          self->stopped_label = stopped;
          /* The model goes on from the saved text (the cached prefix is reused). */
          self->continue_button = gtk_button_new_with_mnemonic (_("_Continue"));
          gtk_widget_add_css_class (self->continue_button, "flat");
          gtk_widget_set_valign (self->continue_button, GTK_ALIGN_CENTER);
          gtk_widget_set_tooltip_text (self->continue_button,
                                       _("Let the model go on from where it stopped"));
          gtk_actionable_set_action_name (GTK_ACTIONABLE (self->continue_button),
                                          "win.continue-message");
          gtk_actionable_set_action_target_value (GTK_ACTIONABLE (self->continue_button),
                                                  g_variant_new_int64 (self->message_id));
          gtk_box_append (GTK_BOX (line), stopped);
          gtk_box_append (GTK_BOX (line), self->continue_button);
          gtk_box_append (GTK_BOX (self->box), line);
        }
      ponder_message_row_set_expanded (self, message->reasoning_expanded);
    }
  gtk_widget_set_visible (self->text,
                          self->answer->len > 0 || self->role == PONDER_HISTORY_ROLE_USER);
  /* Read as "Your message" or "Answer", then the text; busy while it streams. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  self->role == PONDER_HISTORY_ROLE_USER ? _("Your message")
                                                                         : _("Answer"),
                                  -1);
  gtk_accessible_update_state (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_STATE_BUSY, streaming, -1);
  if (!streaming)
    build_footer (self, message);
  update_card (self);

  return GTK_WIDGET (self);
}

/**
 * ponder_message_row_shows:
 * @streaming: whether @message is the answer being generated now
 *
 * Returns: TRUE when a row built now for @message would look the same as
 *   this one (the reasoning card's open state aside: the row keeps its own)
 */
gboolean
ponder_message_row_shows (PonderMessageRow           *self,
                          const PonderHistoryMessage *message,
                          gboolean                    streaming)
{
  g_return_val_if_fail (PONDER_IS_MESSAGE_ROW (self), FALSE);
  g_return_val_if_fail (message != NULL, FALSE);

  /* A streamed row keeps its plain text after the end: never reused. */
  return !streaming && !self->built_streaming
         && self->message_id == message->id
         && self->role == message->role
         && self->complete == message->complete
         && self->sibling_index == message->sibling_index
         && self->n_siblings == message->n_siblings
         && self->reasoning_s == message->reasoning_s
         && g_str_equal (self->answer->str, message->content)
         && g_str_equal (self->reasoning->str, message->reasoning);
}

gint64
ponder_message_row_get_message_id (PonderMessageRow *self)
{
  g_return_val_if_fail (PONDER_IS_MESSAGE_ROW (self), 0);

  return self->message_id;
}

/* Appends a batch of streamed text; the first answer text ends thinking. */
void
ponder_message_row_append (PonderMessageRow *self,
                           const char       *reasoning,
                           const char       *answer)
{
  g_return_if_fail (PONDER_IS_MESSAGE_ROW (self));

  if (reasoning != NULL && reasoning[0] != '\0')
    {
      g_string_append (self->reasoning, reasoning);
      if (ponder_message_row_get_expanded (self))
        gtk_label_set_text (GTK_LABEL (self->trace), self->reasoning->str);
    }
  if (answer != NULL && answer[0] != '\0')
    {
      /* The answer starts after the think block's blank line. */
      g_string_append (self->answer, self->answer->len == 0 ? answer + strspn (answer, "\n")
                                                           : answer);
      if (self->thinking && self->answer->len > 0)
        {
          double elapsed = (g_get_monotonic_time () - self->started_us) / (double) G_USEC_PER_SEC;
          g_autofree char *title = ponder_format_thought_for (elapsed);

          self->thinking = FALSE;
          set_card_title (self, title);
        }
      if (GTK_IS_LABEL (self->text))
        gtk_label_set_text (GTK_LABEL (self->text), self->answer->str);
      gtk_widget_set_visible (self->text, self->answer->len > 0);
    }
  update_card (self);
}

/* Refreshes the running time of the "Thinking…" header. */
void
ponder_message_row_tick (PonderMessageRow *self)
{
  g_return_if_fail (PONDER_IS_MESSAGE_ROW (self));

  if (self->thinking)
    update_card (self);
}

/* The generation ended; @reasoning_s is the engine's measured time. */
void
ponder_message_row_finish (PonderMessageRow *self,
                           double            reasoning_s)
{
  g_autofree char *title = NULL;

  g_return_if_fail (PONDER_IS_MESSAGE_ROW (self));

  self->thinking = FALSE;
  self->streaming = FALSE;
  gtk_accessible_update_state (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_STATE_BUSY, FALSE, -1);
  if (self->card != NULL)
    {
      title = ponder_format_thought_for (reasoning_s);
      set_card_title (self, title);
    }
  update_card (self);
}

const char *
ponder_message_row_get_reasoning_title (PonderMessageRow *self)
{
  g_return_val_if_fail (PONDER_IS_MESSAGE_ROW (self), NULL);

  return self->card_title != NULL ? gtk_label_get_text (GTK_LABEL (self->card_title)) : NULL;
}

const char *
ponder_message_row_get_branch_label (PonderMessageRow *self)
{
  g_return_val_if_fail (PONDER_IS_MESSAGE_ROW (self), NULL);

  return self->branch_label != NULL ? gtk_label_get_text (GTK_LABEL (self->branch_label)) : NULL;
}

const char *
ponder_message_row_get_answer_text (PonderMessageRow *self)
{
  g_return_val_if_fail (PONDER_IS_MESSAGE_ROW (self), NULL);

  return self->answer->str;
}

gboolean
ponder_message_row_get_expanded (PonderMessageRow *self)
{
  g_return_val_if_fail (PONDER_IS_MESSAGE_ROW (self), FALSE);

  return self->revealer != NULL && gtk_revealer_get_reveal_child (GTK_REVEALER (self->revealer));
}

/* Past reasoning is kept in the store but not shown (the "hidden"
 * preference); a row still thinking always shows its card. */
void
ponder_message_row_set_reasoning_hidden (PonderMessageRow *self,
                                         gboolean          hidden)
{
  g_return_if_fail (PONDER_IS_MESSAGE_ROW (self));

  self->hide_reasoning = hidden;
  update_card (self);
}

gboolean
ponder_message_row_get_reasoning_shown (PonderMessageRow *self)
{
  g_return_val_if_fail (PONDER_IS_MESSAGE_ROW (self), FALSE);

  return self->card != NULL && gtk_widget_get_visible (self->card);
}

void
ponder_message_row_set_expanded (PonderMessageRow *self,
                                 gboolean          expanded)
{
  g_return_if_fail (PONDER_IS_MESSAGE_ROW (self));

  if (self->revealer == NULL)
    return;
  /* Kept while it closes: the text slides away with the card. */
  if (expanded)
    gtk_label_set_text (GTK_LABEL (self->trace), self->reasoning->str);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->revealer), expanded);
  gtk_image_set_from_icon_name (GTK_IMAGE (self->card_arrow),
                                expanded ? "pan-down-symbolic" : "pan-end-symbolic");
  gtk_accessible_update_state (GTK_ACCESSIBLE (self->card_button),
                               GTK_ACCESSIBLE_STATE_EXPANDED, expanded, -1);
  update_card (self);
}
