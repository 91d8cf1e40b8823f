/* ponder-conversation-settings.c — a conversation's prompt and sampling
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A preferences window built in code (rows of spin buttons); the window
 * that opens it reads the values back when it closes ("done" signal).
 */

#define G_LOG_DOMAIN "ponder-settings"

#include <glib/gi18n.h>

#include "ponder-conversation-settings.h"

struct _PonderConversationSettings
{
  AdwPreferencesWindow  parent_instance;

  GtkWidget            *system_prompt;  /* AdwEntryRow */
  GtkWidget            *temperature;
  GtkWidget            *top_p;
  GtkWidget            *top_k;
  GtkWidget            *min_p;
  GtkWidget            *repeat_penalty;
  GtkWidget            *max_tokens;
  GtkWidget            *seed;
  GtkWidget            *reasoning_budget;
  GtkWidget            *skip_reasoning;
};

G_DEFINE_FINAL_TYPE (PonderConversationSettings, ponder_conversation_settings,
                     ADW_TYPE_PREFERENCES_WINDOW)

static GtkWidget *
spin_row (AdwPreferencesGroup *group,
          const char          *title,
          const char          *subtitle,
          double               lower,
          double               upper,
          double               step,
          guint                digits,
          double               value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (lower, upper, step);

  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (spin), digits);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  adw_preferences_group_add (group, row);
  return spin;
}

static void
ponder_conversation_settings_class_init (PonderConversationSettingsClass *klass)
{
}

static void
ponder_conversation_settings_init (PonderConversationSettings *self)
{
}

/**
 * ponder_conversation_settings_new:
 * @system_prompt: (nullable): the current system prompt
 * @sampling: the current settings
 */
PonderConversationSettings *
ponder_conversation_settings_new (const char                  *system_prompt,
                                  const PonderHistorySampling *sampling)
{
  PonderConversationSettings *self;
  AdwPreferencesPage *page;
  AdwPreferencesGroup *prompt;
  AdwPreferencesGroup *sampler;
  AdwPreferencesGroup *reasoning;
  GtkWidget *row;

  g_return_val_if_fail (sampling != NULL, NULL);

  self = g_object_new (PONDER_TYPE_CONVERSATION_SETTINGS,
                       "title", _("Conversation Settings"),
                       "modal", TRUE,
                       "search-enabled", FALSE,
                       "default-height", 640,
                       NULL);
  page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());

  prompt = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (prompt, _("System Prompt"));
  adw_preferences_group_set_description (prompt,
    _("DeepSeek-R1 works best without a system prompt: put instructions in your message."));
  self->system_prompt = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->system_prompt), _("System prompt"));
  gtk_editable_set_text (GTK_EDITABLE (self->system_prompt),
                         system_prompt != NULL ? system_prompt : "");
  adw_preferences_group_add (prompt, self->system_prompt);

  sampler = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (sampler, _("Sampling"));
  adw_preferences_group_set_description (sampler,
    _("Recommended for R1: temperature 0.6, top-p 0.95, the rest off."));
  self->temperature = spin_row (sampler, _("Temperature"), _("0 always picks the likeliest token"),
                                0.0, 2.0, 0.05, 2, sampling->temperature);
  self->top_p = spin_row (sampler, _("Top-p"), _("1 is off"), 0.0, 1.0, 0.01, 2, sampling->top_p);
  self->top_k = spin_row (sampler, _("Top-k"), _("0 is off"), 0, 1000, 1, 0, sampling->top_k);
  self->min_p = spin_row (sampler, _("Min-p"), _("0 is off"), 0.0, 1.0, 0.01, 2, sampling->min_p);
  self->repeat_penalty = spin_row (sampler, _("Repetition penalty"), _("1 is off"),
                                   1.0, 2.0, 0.01, 2, sampling->repeat_penalty);
  self->max_tokens = spin_row (sampler, _("Maximum tokens"), _("0 runs until the context is full"),
                               0, 1 << 20, 256, 0, sampling->max_tokens);
  self->seed = spin_row (sampler, _("Seed"), _("−1 picks a new one for every answer"),
                         -1, G_MAXINT32, 1, 0, (double) sampling->seed);

  reasoning = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (reasoning, _("Reasoning"));
  self->reasoning_budget = spin_row (reasoning, _("Reasoning budget"),
                                     _("Tokens of thinking before the model must answer; −1 is unlimited"),
                                     -1, 1 << 20, 128, 0, sampling->reasoning_budget);
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Skip reasoning"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Start the answer with an empty think block"));
  self->skip_reasoning = gtk_switch_new ();
  gtk_switch_set_active (GTK_SWITCH (self->skip_reasoning), sampling->skip_reasoning);
  gtk_widget_set_valign (self->skip_reasoning, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), self->skip_reasoning);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), self->skip_reasoning);
  adw_preferences_group_add (reasoning, row);

  adw_preferences_page_add (page, prompt);
  adw_preferences_page_add (page, sampler);
  adw_preferences_page_add (page, reasoning);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), page);
  return self;
}

void
ponder_conversation_settings_get_sampling (PonderConversationSettings *self,
                                           PonderHistorySampling      *out)
{
  g_return_if_fail (PONDER_IS_CONVERSATION_SETTINGS (self));

  out->temperature = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->temperature));
  out->top_p = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->top_p));
  out->top_k = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->top_k));
  out->min_p = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->min_p));
  out->repeat_penalty = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->repeat_penalty));
  out->max_tokens = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->max_tokens));
  out->seed = (gint64) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->seed));
  out->reasoning_budget = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->reasoning_budget));
  out->skip_reasoning = gtk_switch_get_active (GTK_SWITCH (self->skip_reasoning));
}

/* Returns: (transfer full) (nullable): NULL when empty */
char *
ponder_conversation_settings_dup_system_prompt (PonderConversationSettings *self)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (PONDER_IS_CONVERSATION_SETTINGS (self), NULL);

  text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->system_prompt))));
  return text[0] != '\0' ? g_steal_pointer (&text) : NULL;
}

void
ponder_conversation_settings_set_temperature (PonderConversationSettings *self,
                                              double                      temperature)
{
  g_return_if_fail (PONDER_IS_CONVERSATION_SETTINGS (self));

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->temperature), temperature);
}
