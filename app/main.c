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

  setlocale (LC_ALL, "");
  g_set_application_name (_("Ponder"));

  app = ponder_application_new (G_APPLICATION_DEFAULT_FLAGS);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
