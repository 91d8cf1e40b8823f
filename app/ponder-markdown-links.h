/* ponder-markdown-links.h — links in rendered messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct
{
  guint       start;  /* byte range in the label's text */
  guint       end;
  const char *target; /* as written in the markdown */
} PonderMarkdownLinkRange;

void        ponder_markdown_links_attach  (GtkLabel   *label,
                                           GArray     *ranges);
const char *ponder_markdown_link_at       (GtkLabel   *label,
                                           double      x,
                                           double      y);
gboolean    ponder_markdown_link_can_open (const char *target);

G_END_DECLS
