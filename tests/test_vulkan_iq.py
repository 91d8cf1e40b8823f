#!/usr/bin/python3
# test_vulkan_iq.py: whole models with IQ weights (spec 2.5) on the Vulkan
# backend (lavapipe in CI): tiny generated qwen2 and deepseek2 models in the
# types of R1's dynamic quants, each "pure" (every matrix that fits the
# 256-wide blocks in the type, IQ4_NL where rows are shorter) and unsloth's
# UD-IQ1_S mix, must run on the device (no CPU fallback) and give the
# logits of the float64 numpy reference (tests/reference.py, dequantising
# with tests/quants_iq.py) and of the CPU backend, in one batched pass
# (prefill) and one token per step (decode).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: test_vulkan_iq.py [--only SUBSTRING] [--keep DIR]
# Env:   PONDER_BUILD_ROOT (the CLI is $PONDER_BUILD_ROOT/cli/ponder-cli)
#
# Tolerances are those of test_vulkan_forward.py and test_vulkan_deepseek2.py,
# whose checks run here: the shaders dequantise exactly what the reference
# does (test-vulkan-iq holds every element to the CPU's bit for bit) and
# multiply with f32 activations, so |vulkan - ref| <= 1e-4 max|ref| with the
# same argmax everywhere; against the CPU, whose integer kernels round the
# activations to 8 bits, |vulkan - cpu| <= |cpu - ref| + 1e-4 max|ref|.
# deepseek2 token sequences with a routing decision closer than 1e-4 in
# the reference are redrawn (as there).

import argparse
import functools
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import gen_model  # noqa: E402
import test_vulkan_deepseek2 as ds2  # noqa: E402
import test_vulkan_forward as dense  # noqa: E402

# The models' IQ blocks random (every field but the f16 scale; gen_model's
# fast=True) rather than quantised from float weights: numpy's greedy IQ1_S
# search took 30 s per model, and random fields reach every grid entry and
# sign. Both checks above read the weights back from the file.
_generate = gen_model.generate
gen_model.generate = functools.partial(_generate, fast=True)

# (arch, preset, weight type)
CASES = [
    ('qwen2', 'tiny256', 'UD-IQ1_S'),
    ('qwen2', 'tiny256', 'IQ1_S'),
    ('qwen2', 'tiny256', 'IQ1_M'),
    ('qwen2', 'tiny256', 'IQ2_XXS'),
    ('qwen2', 'tiny256', 'IQ2_XS'),
    ('qwen2', 'tiny256', 'IQ2_S'),
    ('qwen2', 'tiny256', 'IQ3_XXS'),
    ('qwen2', 'tiny256', 'IQ3_S'),
    ('qwen2', 'tiny256', 'IQ4_XS'),
    ('qwen2', 'tiny', 'IQ4_NL'),
    ('deepseek2', 'tiny256', 'IQ1_S'),  # UD-IQ1_S: its Q5_1 fallbacks have no shader
    ('deepseek2', 'tiny256', 'IQ1_M'),
    ('deepseek2', 'tiny256', 'IQ2_XXS'),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', help='cases whose name contains this')
    ap.add_argument('--keep', help='generate the models in this directory and keep them')
    args = ap.parse_args()
    # On a GPU the integer-dot kernels would round the activations to bytes;
    # these tolerances hold the device to float products (the integer path:
    # test_vulkan_features.py).
    os.environ.setdefault('PONDER_VK_INT8_DOT', '0')
    if not os.path.exists(dense.cli_path()):
        print('FAIL: %s not found (build the ponder_cli target)' % dense.cli_path())
        return 1
    tmp = args.keep or tempfile.mkdtemp(prefix='ponder-vulkan-iq-')
    os.makedirs(tmp, exist_ok=True)
    n_fail = 0
    try:
        for i, (arch, preset, wtype) in enumerate(CASES):
            name = '%s/%s/%s' % (arch, preset, wtype)
            if args.only and args.only not in name:
                continue
            if arch == 'deepseek2':
                fails, summary = ds2.check_case(tmp, preset, wtype, seed=120 + i)
            else:
                fails, summary = dense.check_case(tmp, arch, preset, wtype, False, seed=120 + i)
            print('%s %-28s %s' % ('FAIL' if fails else 'ok  ', name, summary))
            for f in fails:
                print('     ' + f)
            sys.stdout.flush()
            n_fail += bool(fails)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print('%d failed' % n_fail)
    return 1 if n_fail else 0


if __name__ == '__main__':
    sys.exit(main())
