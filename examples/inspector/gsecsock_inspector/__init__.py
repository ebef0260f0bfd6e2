# SPDX-License-Identifier: LGPL-2.1-or-later
"""Connection Inspector: a GTK 4 and libadwaita application that connects to
a TLS server with gsecsock and shows its certificate chain, what the
handshake negotiated and the handshake's trace, asking the user — without
blocking — when the certificate cannot be verified or the server asks for a
client certificate."""
