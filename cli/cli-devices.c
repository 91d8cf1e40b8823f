/* cli-devices.c: `ponder-cli devices`, the Vulkan devices and their features.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Exits 0 with the list, or 1 saying why there is none (no loader, no
 * device, a build without Vulkan); the CPU backend works either way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *
kind_name (PonderDeviceKind kind)
{
  switch (kind)
    {
    case PONDER_DEVICE_DISCRETE:
      return "discrete";
    case PONDER_DEVICE_INTEGRATED:
      return "integrated";
    case PONDER_DEVICE_VIRTUAL:
      return "virtual";
    case PONDER_DEVICE_CPU:
      return "cpu";
    case PONDER_DEVICE_OTHER:
    default:
      return "other";
    }
}

static void
print_device (size_t                  index,
              const PonderDeviceInfo *info)
{
  printf ("%zu%s %s\n", index, info->is_default ? "*" : " ", info->name);
  printf ("   type: %s, memory: %.1f GiB, subgroup: %u\n", kind_name (info->kind),
          (double) info->memory_bytes / (1024.0 * 1024.0 * 1024.0), info->subgroup_size);
  printf ("   float16: %s, 16-bit storage: %s, int8 dot product: %s\n",
          info->has_float16 ? "yes" : "no", info->has_storage16 ? "yes" : "no",
          info->has_int8_dot ? "yes" : "no");
}

int
cli_devices (int    argc,
             char **argv)
{
  PonderError error = { 0 };
  PonderDeviceInfo *infos;
  size_t n;

  if (argc > 1)
    {
      if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
        {
          printf ("Usage: ponder-cli devices\n"
                  "Lists the Vulkan devices; * marks the one used by default.\n");
          return 0;
        }
      return cli_usage_error ("devices: unexpected argument '%s'", argv[1]);
    }
  n = ponder_list_devices (NULL, 0, &error);
  if (n == 0)
    {
      fprintf (stderr, "ponder-cli: devices: %s (the CPU backend is used)\n",
               error.message);
      return 1;
    }
  infos = calloc (n, sizeof *infos);
  if (infos == NULL)
    return 1;
  /* A device may come or go between the two calls; print what we got. */
  n = ponder_list_devices (infos, n, &error);
  for (size_t i = 0; i < n; i++)
    print_device (i, &infos[i]);
  free (infos);
  return 0;
}
