#!/usr/bin/python3
"""Checks po/POTFILES.in against the sources.

Fails when
  - a C or .ui file (app/, ui/, data/) marks strings for translation but is
    not listed in POTFILES.in, or a listed file no longer exists;
  - a .ui file sets a user-visible property (label, title, tooltip...) to
    text without translatable="yes";
  - xgettext warns about a listed file: a msgid glued from a macro such as
    G_GINT64_FORMAT is cut short, so its translation would never be found.

Usage: check_potfiles.py SOURCE_ROOT
"""

import os
import re
import subprocess
import sys
import tempfile

C_MARKERS = re.compile(r'(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|Q_|ngettext|g_dngettext)\s*\(\s*"')
UI_MARKER = re.compile(r'translatable="yes"')
DATA_MARKER = re.compile(r'<(?:name|summary|p|li|caption|description)\b'
                         r'|^(?:Name|GenericName|Comment|Keywords)=', re.M)
UI_TEXT_PROPS = ('label', 'title', 'subtitle', 'tooltip-text', 'placeholder-text',
                 'description', 'text', 'heading', 'body', 'secondary-text')
UI_PROP = re.compile(r'<(property|attribute)\s+name="([a-z-]+)"([^>]*)>([^<]*)</\1>')


def listed(root):
    with open(os.path.join(root, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        return [line.strip() for line in f
                if line.strip() and not line.startswith('#')]


def candidates(root):
    for top in ('app', 'ui', 'data'):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                if name.endswith(('.c', '.h')):
                    yield rel, C_MARKERS
                elif name.endswith('.ui'):
                    yield rel, UI_MARKER
                elif name.endswith(('.desktop.in', '.metainfo.xml.in', '.gschema.xml')):
                    yield rel, DATA_MARKER


def strip_c_comments(text):
    return re.sub(r'/\*.*?\*/|//[^\n]*', ' ', text, flags=re.S)


def main():
    root = sys.argv[1]
    problems = []
    files = listed(root)
    for rel in files:
        if not os.path.isfile(os.path.join(root, rel)):
            problems.append(f'{rel}: listed in po/POTFILES.in but does not exist')
    for rel, marker in candidates(root):
        with open(os.path.join(root, rel), encoding='utf-8') as f:
            text = f.read()
        if rel.endswith(('.c', '.h')):
            text = strip_c_comments(text)
        if marker.search(text) and rel not in files:
            problems.append(f'{rel}: has translatable strings but is not in po/POTFILES.in')
        if rel.endswith('.ui'):
            for m in UI_PROP.finditer(text):
                kind, name, attrs, value = m.groups()
                if (name in UI_TEXT_PROPS and re.search(r'[A-Za-z]', value)
                        and 'translatable="yes"' not in attrs):
                    line = text.count('\n', 0, m.start()) + 1
                    problems.append(f'{rel}:{line}: {kind} "{name}" ({value!r}) '
                                    'is not marked translatable="yes"')

    with tempfile.TemporaryDirectory() as tmp:
        sources = [f for f in files if os.path.isfile(os.path.join(root, f))]
        pot = os.path.join(tmp, 'check.pot')
        # The same keywords as meson's 'glib' preset.
        run = subprocess.run(
            ['xgettext', '--from-code=UTF-8', '--output', pot,
             '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
             '--keyword=g_dngettext:2,3', '--keyword=ngettext:1,2',
             '--flag=g_set_error:4:c-format', '--flag=g_strdup_printf:1:c-format',
             '--flag=g_string_append_printf:2:c-format'] + sources,
            cwd=root, capture_output=True, text=True)
        if run.returncode != 0:
            problems.append('xgettext failed: ' + run.stderr.strip())
        for line in run.stderr.splitlines():
            if 'warning' in line:
                problems.append('xgettext: ' + line.strip())
        if run.returncode == 0 and os.path.exists(pot):
            with open(pot, encoding='utf-8') as f:
                n = f.read().count('\nmsgid "') - 1
            print(f'{len(sources)} files, {n} messages')

    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
