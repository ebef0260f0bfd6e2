// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Run by test_exceptions.js as a child process, to see what GJS prints and
// how the process ends when a verify-certificate handler throws. Prints the
// handshake's outcome on stdout.

import {GLib, Pair, clientContext, serverContext} from './testutils.js';
import System from 'system';

const pair = new Pair(clientContext(), serverContext());
pair.client.connect('verify-certificate', () => {
    throw new Error('handler bug');
});
const loop = new GLib.MainLoop(null, false);
pair.handshake().then(([clientError]) => {
    print(clientError === null ? 'accepted' : `rejected: ${clientError.message}`);
    loop.quit();
});
GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 20, () => {
    print('timed out');
    System.exit(2);
});
loop.run();
