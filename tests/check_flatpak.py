#!/usr/bin/python3
"""Checks flatpak/io.github.ponder.Ponder.json offline (flatpak-builder needs
the network, which this machine lacks).

Fails when the manifest does not parse, a third-party source is not pinned
(https URL and a 64-digit sha256, or a git commit), Ponder itself is not built
from this source tree with meson last, the app ID or command differ from what
the sources install (app/meson.build's executable, the desktop file, the
metainfo, the schema, PONDER_APP_ID), the metainfo's newest release is not
the project version, or a permission is wider than the app
needs (network, file system, devices beyond /dev/dri, X11 without Wayland).

Usage: check_flatpak.py SOURCE_ROOT
"""

import json
import os
import re
import sys

APP_ID = 'io.github.ponder.Ponder'
ALLOWED_ARGS = {'--share=ipc', '--socket=wayland', '--socket=fallback-x11', '--device=dri'}
REQUIRED_ARGS = {'--socket=wayland', '--socket=fallback-x11', '--device=dri'}
NEEDED_MODULES = {'cmark-gfm', 'glslang'}   # not in the GNOME runtime


def read(root, path):
    with open(os.path.join(root, path), encoding='utf-8') as f:
        return f.read()


def source_problems(module, source):
    kind = source.get('type')
    name = module.get('name')
    if kind in ('archive', 'file'):
        problems = []
        url = source.get('url', '')
        if not url.startswith('https://'):
            problems.append(f'{name}: source URL {url!r} is not https')
        if not re.fullmatch(r'[0-9a-f]{64}', source.get('sha256', '')):
            problems.append(f'{name}: source {url} has no sha256')
        return problems
    if kind == 'git':
        if not re.fullmatch(r'[0-9a-f]{40}', source.get('commit', '')):
            return [f'{name}: git source without a pinned commit']
        return []
    if kind == 'patch' and 'path' in source:
        return []
    return [f'{name}: source type {kind!r} is not pinned']


def main():
    root = sys.argv[1]
    problems = []
    try:
        manifest = json.loads(read(root, f'flatpak/{APP_ID}.json'))
    except (OSError, ValueError) as e:
        sys.exit(f'flatpak/{APP_ID}.json: {e}')

    # The app ID and command, against what the sources install.
    app_id = manifest.get('id', manifest.get('app-id'))
    if app_id != APP_ID:
        problems.append(f'id is {app_id!r}, not {APP_ID}')
    exe = re.search(r"executable\('([^']+)', 'main.c'", read(root, 'app/meson.build'))
    command = manifest.get('command')
    if exe is None or command != exe.group(1):
        problems.append(f'command {command!r} is not the installed executable '
                        f'{exe.group(1) if exe else "?"!r}')
    desktop = read(root, f'data/{APP_ID}.desktop.in')
    if not re.search(rf'^Exec={re.escape(str(command))}(\s|$)', desktop, re.M):
        problems.append('the desktop file does not run the manifest command')
    if f'Icon={APP_ID}\n' not in desktop:
        problems.append('the desktop file icon is not the app ID')
    if f'<id>{APP_ID}</id>' not in read(root, f'data/{APP_ID}.metainfo.xml.in'):
        problems.append('the metainfo has another ID')
    if f'<binary>{command}</binary>' not in read(root, f'data/{APP_ID}.metainfo.xml.in'):
        problems.append('the metainfo does not provide the command')
    version = re.search(r"project\('ponder',.*?version: '([^']+)'", read(root, 'meson.build'), re.S)
    release = re.search(r'<release version="([^"]+)"',
                        read(root, f'data/{APP_ID}.metainfo.xml.in'))
    if not version or not release or version.group(1) != release.group(1):
        problems.append('the newest release in the metainfo is not the project version '
                        f'({release.group(1) if release else None} vs '
                        f'{version.group(1) if version else None})')
    if f'schema id="{APP_ID}"' not in read(root, f'data/{APP_ID}.gschema.xml'):
        problems.append('the GSettings schema has another ID')
    if f'#define PONDER_APP_ID "{APP_ID}"' not in read(root, 'app/ponder-application.h'):
        problems.append('PONDER_APP_ID differs')
    for icon in (f'data/icons/hicolor/scalable/apps/{APP_ID}.svg',
                 f'data/icons/hicolor/symbolic/apps/{APP_ID}-symbolic.svg'):
        if not os.path.isfile(os.path.join(root, icon)):
            problems.append(f'{icon} is missing')
    if not manifest.get('runtime') == 'org.gnome.Platform' or \
            not manifest.get('sdk') == 'org.gnome.Sdk':
        problems.append('not built on the GNOME runtime')

    # Permissions.
    args = set(manifest.get('finish-args', []))
    for arg in sorted(args - ALLOWED_ARGS):
        problems.append(f'finish-arg {arg} is wider than the app needs')
    for arg in sorted(REQUIRED_ARGS - args):
        problems.append(f'finish-arg {arg} is missing')

    # Modules: every third-party source pinned, Ponder itself last, from here.
    modules = manifest.get('modules', [])
    if not modules:
        problems.append('no modules')
    names = {m.get('name') for m in modules if isinstance(m, dict)}
    for missing in sorted(NEEDED_MODULES - names):
        problems.append(f'module {missing} is missing')
    for module in modules[:-1]:
        if not isinstance(module, dict):
            problems.append(f'module {module!r} is a separate file; keep them inline')
            continue
        if not module.get('sources'):
            problems.append(f'{module.get("name")}: no sources')
        for source in module.get('sources', []):
            problems += source_problems(module, source)
    if modules:
        ponder = modules[-1]
        sources = ponder.get('sources', [])
        if ponder.get('name') != 'ponder' or ponder.get('buildsystem') != 'meson':
            problems.append('the last module is not ponder built with meson')
        elif (len(sources) != 1 or sources[0].get('type') != 'dir' or
              os.path.realpath(os.path.join(root, 'flatpak', sources[0].get('path', ''))) !=
              os.path.realpath(root)):
            problems.append('ponder is not built from this source tree')

    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print(f'{len(modules)} modules, {sum(len(m.get("sources", [])) for m in modules)} '
              f'sources, finish-args {sorted(args)}')
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
