#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-translations.py SOURCE_ROOT

For every language of po/LINGUAS: extracts the current messages from the
files of po/POTFILES (as `meson compile gsecsock-1.0-pot` does), merges
them into LANG.po in a temporary directory, and fails unless msgfmt
--check accepts the result with no fuzzy and no untranslated message.
So a new or changed message in the library or the tool fails this test
until the translations are updated:

    meson compile -C _build gsecsock-1.0-update-po

Output is TAP.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

DOMAIN = 'gsecsock-1.0'
# The keywords of meson's i18n 'glib' preset, plus po/meson.build's own.
XGETTEXT_ARGS = [
    '--from-code=UTF-8', '--add-comments', '--language=C',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--keyword=gsecsock_ngettext:1,2',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=gsecsock_ngettext:1:pass-c-format',
    '--flag=g_strdup_printf:1:c-format', '--flag=g_string_printf:2:c-format',
    '--flag=g_string_append_printf:2:c-format', '--flag=g_error_new:3:c-format',
    '--flag=g_set_error:4:c-format', '--flag=g_markup_printf_escaped:1:c-format',
]
STATS = re.compile(r'(\d+) translated messages?(?:, (\d+) fuzzy translations?)?'
                   r'(?:, (\d+) untranslated messages?)?')


def main(root):
    for tool in ('xgettext', 'msgmerge', 'msgfmt'):
        if shutil.which(tool) is None:
            print(f'1..0 # SKIP {tool} is not installed (Debian: gettext)')
            return 77
    po_dir = os.path.join(root, 'po')
    with open(os.path.join(po_dir, 'LINGUAS'), encoding='utf-8') as linguas:
        languages = [word for line in linguas if not line.startswith('#') for word in line.split()]

    print(f'1..{1 + len(languages)}')
    failed = False
    with tempfile.TemporaryDirectory(prefix='gsecsock-po-') as tmp:
        pot = os.path.join(tmp, DOMAIN + '.pot')
        extract = subprocess.run(['xgettext', *XGETTEXT_ARGS, '--files-from', os.path.join(po_dir, 'POTFILES'),
                                  '--directory', root, '--output', pot],
                                 capture_output=True, text=True)
        if extract.returncode != 0:
            print('not ok 1 - messages extracted from po/POTFILES')
            print('# ' + extract.stderr.replace('\n', '\n# '))
            return 1
        with open(pot, encoding='utf-8') as template:
            total = template.read().count('\nmsgid "') - 1
        print(f'ok 1 - {total} messages extracted from po/POTFILES')

        for number, language in enumerate(languages, start=2):
            merged = os.path.join(tmp, language + '.po')
            steps = [
                ['msgfmt', '--check', '--output-file=/dev/null', os.path.join(po_dir, language + '.po')],
                ['msgmerge', '--quiet', '--no-fuzzy-matching', '--output-file', merged,
                 os.path.join(po_dir, language + '.po'), pot],
                ['msgfmt', '--check', '--statistics', '--output-file=/dev/null', merged],
            ]
            problems = []
            output = ''
            for step in steps:
                result = subprocess.run(step, capture_output=True, text=True,
                                        env=dict(os.environ, LC_ALL='C'))
                output = result.stderr.strip()
                if result.returncode != 0:
                    problems.append(f'{" ".join(step[:2])} failed: {output}')
                    break
            if not problems:
                match = STATS.search(output)
                translated, fuzzy, untranslated = (int(g or 0) for g in match.groups()) if match else (0, 0, 0)
                if fuzzy or untranslated or translated != total:
                    problems.append(f'{output}: translate the new messages (meson compile -C _build '
                                    f'{DOMAIN}-update-po, then edit po/{language}.po)')
            if problems:
                failed = True
                print(f'not ok {number} - po/{language}.po is complete and valid')
                for problem in problems:
                    print('# ' + problem.replace('\n', '\n# '))
            else:
                print(f'ok {number} - po/{language}.po is complete and valid: {output}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')))
