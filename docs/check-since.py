#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""check-since.py GIR

Fails (TAP) when a documented public symbol of the introspection data has
no `Since:` tag (the GIR's version attribute): gi-docgen check only
requires documentation, not the version it appeared in.
"""

import sys
import xml.etree.ElementTree as ET

CORE = '{http://www.gtk.org/introspection/core/1.0}'
GLIB = '{http://www.gtk.org/introspection/glib/1.0}'
KINDS = {CORE + name for name in ('class', 'interface', 'record', 'enumeration', 'bitfield',
                                  'function', 'constructor', 'method', 'property', 'callback',
                                  'constant', 'alias')} | {GLIB + 'signal'}


def main(path):
    missing = []
    total = 0
    for element in ET.parse(path).iter():
        if element.tag not in KINDS or element.get(GLIB + 'is-gtype-struct-for'):
            continue
        if element.get('introspectable') == '0' and element.tag == CORE + 'record':
            continue
        total += 1
        if element.get('version') is None:
            missing.append(f'{element.tag.split("}")[1]} {element.get("name")}')
    print('1..1')
    if missing:
        print(f'not ok 1 - every public symbol has a Since: tag ({len(missing)} of {total} lack one)')
        for name in missing:
            print(f'# {name}: add "Since: 0.1" (or the version it appears in) to its doc comment')
        return 1
    print(f'ok 1 - every public symbol has a Since: tag ({total} symbols)')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
