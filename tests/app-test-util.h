/* app-test-util.h — helpers shared by the tests that drive the real window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ponder-application.h"
#include "ponder-message-row.h"
#include "ponder-window.h"

G_BEGIN_DECLS

#define WAIT_MS 60000

typedef gboolean (*Condition) (gpointer data);

/* From the scripted model's JSON sidecar (gen_model.py), not from the app. */
typedef struct
{
  char  *answer;
  char  *reasoning;
  guint  n_reasoning_ids;
} ScriptedSidecar;

gboolean          wait_for        (Condition          cond,
                                   gpointer           data,
                                   guint              timeout_ms);
void              settle          (guint              ms);
gboolean          model_loaded    (gpointer           data);
gboolean          idle_window     (gpointer           data);
void              screenshot      (GtkWidget         *widget,
                                   const char        *name);
void              screenshot_after (GtkWidget        *widget,
                                    const char       *name,
                                    guint             settle_ms);
GPtrArray        *transcript_rows (PonderWindow      *window);
guint             n_children      (GtkWidget         *widget);
PonderMessageRow *row_at          (PonderWindow      *window,
                                   guint              index);
void              send            (PonderWindow      *window,
                                   const char        *text);
void              collect         (GtkWidget         *widget,
                                   GPtrArray         *out,
                                   GType              type);
void              sidecar_load    (const char        *model_path,
                                   ScriptedSidecar   *out);
PonderWindow     *new_window      (PonderApplication *app,
                                   PonderHistory     *history);
GtkWindow        *find_toplevel   (GType              type);

G_END_DECLS
