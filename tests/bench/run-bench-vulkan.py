#!/usr/bin/python3
# run-bench-vulkan.py: the Vulkan backend against the CPU backend on the same
# benchmark files (shared/docs/benchmarks.md), next to llama.cpp's Vulkan
# figures on lavapipe.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs `ponder-cli bench --backend cpu` and `--backend vulkan` back to back on
# each model (generated once and cached, as run-bench.py does) and prints
# prefill and decode tokens/s of both, the Vulkan/CPU ratio, and llama.cpp's
# Vulkan figures with its own Vulkan/CPU ratio. On a shared machine compare
# the ratios, measured side by side, rather than absolute figures. Also the
# process CPU time of each run (lavapipe's threads included), steadier than
# wall time on a loaded machine.
#
# Usage: run-bench-vulkan.py [--models NAME,...] [--cache DIR] [-p N] [-n N]
#                            [--gpu-layers N] [--json OUT]
# Env:   PONDER_BUILD_ROOT

import argparse
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location('run_bench', os.path.join(HERE, 'run-bench.py'))
run_bench_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_bench_mod)

# name -> (preset, type, llama.cpp CPU pp64/tg32, llama.cpp Vulkan-on-lavapipe pp64/tg32),
# benchmarks.md
MODELS = {
    'qwen2-0.5b Q8_0': ('qwen2-0.5b', 'Q8_0', (188, 42.0), (4.3, 1.37)),
    'qwen2-0.5b Q4_K_M': ('qwen2-0.5b', 'Q4_K_M', (221, 46.1), (3.9, 1.34)),
    'qwen2-1.5b Q4_K_M': ('qwen2-1.5b', 'Q4_K_M', (84, 24.8), (1.35, 0.53)),
    'deepseek2-small Q4_K_M': ('deepseek2-small', 'Q4_K_M', (1216, 214.7), (5.7, 2.52)),
}


def bench(model, backend, args):
    exe = os.path.join(run_bench_mod.build_root(), 'cli', 'ponder-cli')
    cmd = [exe, 'bench', '-m', model, '-p', str(args.p), '-n', str(args.n), '-r', '1',
           '--threads', str(args.threads), '--backend', backend, '--json']
    if backend == 'vulkan' and args.gpu_layers is not None:
        cmd += ['--gpu-layers', str(args.gpu_layers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0 or 'using the CPU backend' in p.stderr:
        raise RuntimeError('%s: %s' % (backend, p.stderr.strip()))
    for line in reversed(p.stdout.splitlines()):
        if line.strip().startswith('{'):
            result = json.loads(line)
            result['cpu_s'] = (after.ru_utime + after.ru_stime) - (before.ru_utime
                                                                   + before.ru_stime)
            return result
    raise RuntimeError('no JSON from ponder-cli bench: %r' % p.stdout)


def main():
    ap = argparse.ArgumentParser(description='Vulkan vs CPU backend on the benchmark models')
    ap.add_argument('--models', default='qwen2-0.5b Q8_0,qwen2-0.5b Q4_K_M',
                    help='comma-separated, from: ' + ', '.join(MODELS))
    ap.add_argument('--cache', default=os.path.join(run_bench_mod.build_root(), 'bench-models'))
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('-p', type=int, default=32, help='prompt tokens')
    ap.add_argument('-n', type=int, default=16, help='generated tokens')
    ap.add_argument('--gpu-layers', type=int)
    ap.add_argument('--json', help='also write the results to this file')
    args = ap.parse_args()
    names = [m.strip() for m in args.models.split(',') if m.strip()]
    for name in names:
        if name not in MODELS:
            ap.error('unknown model %r' % name)
    print('| model | backend | prefill pp%d t/s | decode tg%d t/s | CPU s | vulkan / cpu '
          '(pp, tg) | llama.cpp vulkan pp64 / tg32 (its vulkan / cpu) |' % (args.p, args.n))
    print('| --- | --- | --: | --: | --: | --: | --: |')
    results = {}
    failed = False
    for name in names:
        preset, wtype, peer_cpu, peer_vk = MODELS[name]
        path = run_bench_mod.cached_model(args.cache, preset, wtype)
        try:
            cpu = bench(path, 'cpu', args)
            vk = bench(path, 'vulkan', args)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print('| %s | error: %s |' % (name, e))
            failed = True
            continue
        results[name] = {'cpu': cpu, 'vulkan': vk}
        for label, r in (('cpu', cpu), ('vulkan', vk)):
            ratio = ''
            peer = ''
            if label == 'vulkan':
                ratio = '%.3f, %.3f' % (vk['prefill_tps'] / cpu['prefill_tps'],
                                        vk['decode_tps'] / cpu['decode_tps'])
                peer = '%.2f / %.2f (%.3f, %.3f)' % (peer_vk[0], peer_vk[1],
                                                      peer_vk[0] / peer_cpu[0],
                                                      peer_vk[1] / peer_cpu[1])
            print('| %s | %s | %.2f | %.2f | %.1f | %s | %s |'
                  % (name, label, r['prefill_tps'], r['decode_tps'], r['cpu_s'], ratio, peer))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
