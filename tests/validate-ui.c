/* validate-ui.c — builds every .ui file given on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * gtk4-builder-tool cannot load libadwaita types, so this tool does the
 * same check with them registered: a plain builder file is parsed with
 * GtkBuilder, a template is instantiated through its class (which must use
 * that very file), so a widget newer than GTK 4.8 / Adw 1.2, a misspelt
 * property or a missing g_type_ensure() fails here.
 */

#include <adwaita.h>

#include "ponder-application.h"
#include "ponder-message-row.h"
#include "ponder-window.h"

static gboolean
validate (const char *path)
{
  g_autoptr(GtkBuilder) builder = gtk_builder_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  const char *tag;

  if (!g_file_get_contents (path, &text, NULL, &error))
    {
      g_printerr ("%s: %s\n", path, error->message);
      return FALSE;
    }

  tag = strstr (text, "<template class=\"");
  if (tag != NULL)
    {
      g_autofree char *name = g_strndup (tag + 17, strcspn (tag + 17, "\""));
      GType type = g_type_from_name (name);
      GObject *object;

      if (type == G_TYPE_INVALID)
        {
          g_printerr ("%s: template class %s is unknown\n", path, name);
          return FALSE;
        }
      /* Criticals are fatal (G_DEBUG=fatal-criticals in the test env). */
      object = g_object_new (type, NULL);
      if (GTK_IS_WINDOW (object))
        gtk_window_destroy (GTK_WINDOW (object));
      else
        g_object_unref (g_object_ref_sink (object));
      g_print ("%s: template %s builds\n", path, name);
      return TRUE;
    }

  if (!gtk_builder_add_from_string (builder, text, -1, &error))
    {
      g_printerr ("%s: %s\n", path, error->message);
      return FALSE;
    }
  g_print ("%s: builds\n", path);
  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  gboolean ok = TRUE;
  int i;

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  gtk_init ();
  adw_init ();
  ponder_register_resources ();
  g_type_ensure (PONDER_TYPE_WINDOW);
  g_type_ensure (PONDER_TYPE_MESSAGE_ROW);

  for (i = 1; i < argc; i++)
    ok = validate (argv[i]) && ok;

  return ok ? 0 : 1;
}
