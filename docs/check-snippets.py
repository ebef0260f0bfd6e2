#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-snippets.py [--update] SOURCE_ROOT PAGE...

The code shown in a documentation page must be the code that is built
and tested. In a page, a line

    <!-- snippet: examples/getting-started/client.c -->

must be followed by a blank line and a fenced code block holding exactly that file, without
its leading shebang and SPDX lines. Fails (TAP) on any difference;
--update rewrites the blocks from the files instead.
"""

import difflib
import os
import re
import sys

# The blank line keeps Markdown from reading the fence as part of the
# comment's HTML block.
MARKER = re.compile(r'^<!-- snippet: (\S+) -->\n\n```[\w-]*\n(.*?)^```$', re.M | re.S)


def snippet(root, path):
    with open(os.path.join(root, path), encoding='utf-8') as source:
        lines = source.read().splitlines(keepends=True)
    while lines and (lines[0].startswith('#!') or 'SPDX-License-Identifier' in lines[0]):
        lines.pop(0)
    return ''.join(lines)


def main(argv):
    update = '--update' in argv
    argv = [arg for arg in argv if arg != '--update']
    root, pages = argv[0], argv[1:]
    results = []
    for page in pages:
        with open(page, encoding='utf-8') as f:
            text = f.read()
        found = list(MARKER.finditer(text))
        if not found:
            results.append((False, f'{os.path.basename(page)} has snippets', ['no <!-- snippet: … --> marker']))
        new_text = text
        for match in found:
            path, shown = match.group(1), match.group(2)
            try:
                wanted = snippet(root, path)
            except OSError as error:
                results.append((False, f'{os.path.basename(page)}: {path}', [str(error)]))
                continue
            if update:
                start, end = match.span(2)
                new_text = new_text[:start + len(new_text) - len(text)] + wanted + \
                    new_text[end + len(new_text) - len(text):]
            diff = list(difflib.unified_diff(shown.splitlines(), wanted.splitlines(),
                                             'page', path, lineterm=''))
            results.append((update or not diff, f'{os.path.basename(page)} shows {path} as it is', diff))
        if update and new_text != text:
            with open(page, 'w', encoding='utf-8') as f:
                f.write(new_text)
    print(f'1..{len(results)}')
    for number, (ok, description, details) in enumerate(results, start=1):
        print(f'{"ok" if ok else "not ok"} {number} - {description}')
        for line in details if not ok else []:
            print('# ' + line)
    if not all(ok for ok, _, _ in results):
        print('# run docs/check-snippets.py --update SOURCE_ROOT PAGE to copy the files into the page')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
