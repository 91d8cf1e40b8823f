/* ponder-device.h — where models run: the device preference and its words
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "ponder-engine.h"

G_BEGIN_DECLS

#define PONDER_DEVICE_LIST_MAX 16

/* The "device" setting ("auto", "cpu" or a device name) resolved against the
 * devices there now. */
typedef struct
{
  PonderBackendKind  backend;       /* AUTO, CPU or VULKAN */
  int32_t            device_index;  /* VULKAN: in ponder_list_devices order; else -1 */
  char              *missing;       /* the named device that is not there (AUTO used) */
  size_t             n_devices;
  PonderDeviceInfo   devices[PONDER_DEVICE_LIST_MAX];
} PonderDeviceChoice;

void        ponder_device_choice_resolve  (PonderDeviceChoice       *choice,
                                           const char               *setting,
                                           const PonderDeviceInfo   *devices,
                                           size_t                    n_devices);
void        ponder_device_choice_clear    (PonderDeviceChoice       *choice);
void        ponder_device_choice_plan     (const PonderDeviceChoice *choice,
                                           PonderPlanParams         *params);
void        ponder_device_choice_model    (const PonderDeviceChoice *choice,
                                           PonderModelParams        *params);

char       *ponder_device_dup_label       (const PonderDeviceInfo   *device);
char       *ponder_device_describe_model  (const PonderModelInfo    *info,
                                           const PonderDeviceChoice *choice,
                                           const char               *fallback_note);

void        ponder_device_list_async      (GCancellable             *cancellable,
                                           GAsyncReadyCallback       callback,
                                           gpointer                  user_data);
GArray     *ponder_device_list_finish     (GAsyncResult             *result,
                                           char                    **out_reason);

GtkWidget  *ponder_device_row_new         (void);

G_END_DECLS
