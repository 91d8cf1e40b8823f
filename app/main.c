/* main.c — the ponder executable
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n.h>
#include <locale.h>

#include "ponder-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(PonderApplication) app = NULL;
  const char *locale_dir;

  setlocale (LC_ALL, "");
  /* PONDER_LOCALEDIR points an uninstalled build (tests, destdir installs)
   * at its own catalogues; installed copies use the configured prefix. */
  locale_dir = g_getenv ("PONDER_LOCALEDIR");
  bindtextdomain (GETTEXT_PACKAGE, locale_dir != NULL ? locale_dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_application_name (_("Ponder"));

  app = ponder_application_new (G_APPLICATION_HANDLES_OPEN);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
