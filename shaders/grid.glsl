/* grid.glsl: flat indices over a 2-D grid of workgroups.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The host splits large counts over x and y (vulkan-device.c, grid_split)
 * because maxComputeWorkGroupCount[0] may be 65535, below a vocabulary.
 */

uint
flat_group ()
{
  return gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
}

uint
flat_invocation ()
{
  return flat_group () * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
}
