#!/usr/bin/python3
"""`meson install --destdir` into a temporary folder, then checks that every
desktop file lands where the desktop looks for it and that the installed
program starts from there (under Xvfb, through run-ui-test.sh).

Usage: check_install.py BUILD_ROOT SOURCE_ROOT PREFIX
"""

import os
import shutil
import subprocess
import sys
import tempfile

APP_ID = 'io.github.ponder.Ponder'
LANGS = ['de', 'zh_CN']
# Hand-typed from the translators' files: one message per language.
NEW_CHAT = {'de': 'Neuer Chat', 'zh_CN': '新对话'}

problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
    return cond


def main():
    build, source, prefix = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix='ponder-install-') as destdir:
        run = subprocess.run(['meson', 'install', '-C', build, '--destdir', destdir,
                              '--no-rebuild', '--quiet'],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit('meson install failed:\n' + run.stdout + run.stderr)
        root = destdir + prefix
        share = os.path.join(root, 'share')

        binary = os.path.join(root, 'bin', 'ponder')
        check(os.access(binary, os.X_OK), f'{binary} is not an installed program')

        desktop = os.path.join(share, 'applications', APP_ID + '.desktop')
        if check(os.path.isfile(desktop), f'{desktop} missing'):
            text = open(desktop, encoding='utf-8').read()
            check('Exec=ponder\n' in text, 'desktop file: Exec is not ponder')
            check(f'Icon={APP_ID}\n' in text, 'desktop file: Icon is not the app ID')
            check('Comment[de]=' in text and 'Comment[zh_CN]=' in text,
                  'desktop file: no translated Comment')
            check(subprocess.run(['desktop-file-validate', desktop]).returncode == 0,
                  'installed desktop file does not validate')

        metainfo = os.path.join(share, 'metainfo', APP_ID + '.metainfo.xml')
        if check(os.path.isfile(metainfo), f'{metainfo} missing'):
            text = open(metainfo, encoding='utf-8').read()
            check('xml:lang="de"' in text and 'xml:lang="zh_CN"' in text,
                  'metainfo: not translated')
            check(subprocess.run(['appstreamcli', 'validate', '--no-net', metainfo],
                                 capture_output=True).returncode == 0,
                  'installed metainfo does not validate')

        schemas = os.path.join(share, 'glib-2.0', 'schemas')
        check(os.path.isfile(os.path.join(schemas, APP_ID + '.gschema.xml')), 'schema missing')

        service = os.path.join(share, 'dbus-1', 'services', APP_ID + '.service')
        if check(os.path.isfile(service), f'{service} missing'):
            text = open(service, encoding='utf-8').read()
            check(f'Name={APP_ID}\n' in text, 'D-Bus service: wrong name')
            check(f'Exec={os.path.join(prefix, "bin", "ponder")} --gapplication-service' in text,
                  'D-Bus service: Exec is not the installed program')

        for icon in (f'icons/hicolor/scalable/apps/{APP_ID}.svg',
                     f'icons/hicolor/symbolic/apps/{APP_ID}-symbolic.svg'):
            check(os.path.isfile(os.path.join(share, icon)), f'share/{icon} missing')

        for lang in LANGS:
            mo = os.path.join(share, 'locale', lang, 'LC_MESSAGES', 'ponder.mo')
            if check(os.path.isfile(mo), f'{mo} missing'):
                po = subprocess.run(['msgunfmt', mo], capture_output=True, text=True).stdout
                check(f'msgid "New Chat"\nmsgstr "{NEW_CHAT[lang]}"' in po,
                      f'{lang}: "New Chat" is not translated in the installed catalogue')

        # The UI files ride inside the program.
        listing = subprocess.run(['gresource', 'list', binary], capture_output=True,
                                 text=True).stdout.split()
        for res in ('ui/ponder-window.ui', 'gtk/help-overlay.ui', 'style.css'):
            check(f'/io/github/ponder/Ponder/{res}' in listing, f'resource {res} not in {binary}')

        if problems:
            report()

        # Start the installed program from the destdir: `gnome.post_install`
        # leaves the schema uncompiled under a destdir, so compile it here.
        subprocess.run(['glib-compile-schemas', '--strict', schemas], check=True)
        env = dict(os.environ, GSETTINGS_SCHEMA_DIR=schemas, LANGUAGE='de', LANG='C.UTF-8',
                   PONDER_LOCALEDIR=os.path.join(share, 'locale'))
        start = subprocess.run([os.path.join(source, 'tests', 'run-ui-test.sh'), binary,
                                '--exit-after-startup'],
                               env=env, capture_output=True, text=True, timeout=120)
        check(start.returncode == 0,
              f'the installed program exited with {start.returncode}:\n{start.stderr[-2000:]}')
        check('schema' not in start.stderr,
              f'the installed program did not find its schema:\n{start.stderr[-2000:]}')
    report()


def report():
    for p in problems:
        print(p, file=sys.stderr)
    if not problems:
        print('installed files and start-up OK')
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
