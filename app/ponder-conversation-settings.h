/* ponder-conversation-settings.h — a conversation's prompt and sampling
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ponder-history.h"

G_BEGIN_DECLS

#define PONDER_TYPE_CONVERSATION_SETTINGS (ponder_conversation_settings_get_type ())

G_DECLARE_FINAL_TYPE (PonderConversationSettings, ponder_conversation_settings,
                      PONDER, CONVERSATION_SETTINGS, AdwPreferencesWindow)

PonderConversationSettings *ponder_conversation_settings_new            (const char                  *system_prompt,
                                                                          const PonderHistorySampling *sampling);
void                        ponder_conversation_settings_get_sampling   (PonderConversationSettings  *self,
                                                                          PonderHistorySampling       *out_sampling);
char                       *ponder_conversation_settings_dup_system_prompt (PonderConversationSettings *self);
void                        ponder_conversation_settings_set_temperature (PonderConversationSettings *self,
                                                                          double                      temperature);

G_END_DECLS
