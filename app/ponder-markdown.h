/* ponder-markdown.h — markdown (cmark-gfm) to GTK widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GtkWidget *ponder_markdown_view_new (const char *markdown);
void       ponder_markdown_warm_up  (void);

G_END_DECLS
