#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-potfiles.py SOURCE_ROOT

Fails when a source file with translatable strings (_("…"), N_("…"),
C_("…", "…"), NC_(…), g_dngettext (DOMAIN, "…", …) or the library's
gsecsock_ngettext ("…", …)) is missing from po/POTFILES, or when POTFILES
names a file that does not exist. Such a file's messages would silently
never be translated. Output is TAP.
"""

import os
import re
import sys

MARKER = re.compile(r'''(?<![A-Za-z0-9_])(?:_|N_|C_|NC_)\s*\(\s*"'''
                    r'''|\bg_d?n?gettext\s*\(\s*\w+\s*,\s*"'''
                    r'''|\bgsecsock_ngettext\s*\(\s*"''')
SOURCE_SUFFIXES = ('.c', '.h')
# Not in the gsecsock-1.0 domain: test programs, fuzzers, benchmarks and
# examples print untranslated diagnostics; build trees hold generated code.
SKIPPED_DIRS = {'tests', 'fuzz', 'bench', 'examples', '.git', 'po', 'subprojects'}


def translatable_sources(root):
    for directory, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(directory, root)
        dirs[:] = sorted(d for d in dirs
                         if not (rel_dir == '.' and (d in SKIPPED_DIRS or d.startswith('_build')))
                         and not os.path.exists(os.path.join(directory, d, 'meson-private'))
                         # A directory with its own po/ translates its own domain.
                         and not os.path.exists(os.path.join(directory, d, 'po', 'POTFILES')))
        for name in sorted(files):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            path = os.path.join(directory, name)
            with open(path, encoding='utf-8', errors='replace') as source:
                if MARKER.search(source.read()):
                    yield os.path.relpath(path, root)


def main(root):
    with open(os.path.join(root, 'po', 'POTFILES'), encoding='utf-8') as potfiles:
        listed = [line.strip() for line in potfiles
                  if line.strip() and not line.lstrip().startswith('#')]
    found = sorted(translatable_sources(root))
    missing = [path for path in found if path not in listed]
    absent = [path for path in listed if not os.path.isfile(os.path.join(root, path))]
    unmarked = [path for path in listed if path not in found and path not in absent]

    print('1..2')
    if missing:
        print('not ok 1 - every file with translatable strings is in po/POTFILES')
        for path in missing:
            print(f'# {path} has translatable strings but is not in po/POTFILES: add it')
    else:
        print(f'ok 1 - every file with translatable strings is in po/POTFILES ({len(found)} files)')
    if absent:
        print('not ok 2 - every file po/POTFILES lists exists')
        for path in absent:
            print(f'# po/POTFILES lists {path}, which does not exist: remove or rename it')
    else:
        print('ok 2 - every file po/POTFILES lists exists')
    for path in unmarked:
        print(f'# note: po/POTFILES lists {path}, which has no translatable string any more')
    return 1 if missing or absent else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')))
