# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fake servers for `gsecsock connect --starttls`: each speaks just enough
of its protocol's plain-text start (SMTP, IMAP, POP3, FTP, XMPP, LDAP,
PostgreSQL) to agree to STARTTLS, or to refuse it, then does the TLS
handshake with Python's ssl module and echoes one line.

    server = FakeStartTls('smtp', cert_chain, key)   # or refuse=True
    ... connect to server.port ...
    server.close(); server.received  -> what the client said in plain text
"""

import socket
import ssl
import threading

XMPP_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
LDAP_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"


class FakeStartTls:
    def __init__(self, protocol, cert_chain, key, refuse=False):
        self.protocol = protocol
        self.refuse = refuse
        self.received = []          # plain-text lines (or messages) from the client
        self.tls_version = None
        self.error = None
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_chain, key)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(5)
        self.listener.settimeout(20)
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    # -- plain text helpers -------------------------------------------------
    def _readline(self, conn):
        data = b''
        while not data.endswith(b'\n'):
            byte = conn.recv(1)
            if not byte:
                break
            data += byte
        line = data.decode('utf-8', 'replace').rstrip('\r\n')
        self.received.append(line)
        return line

    def _read_until(self, conn, marker):
        data = b''
        while marker not in data:
            byte = conn.recv(1)
            if not byte:
                break
            data += byte
        self.received.append(data.decode('utf-8', 'replace'))
        return data

    def _read_exactly(self, conn, n):
        data = b''
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    # -- the protocols ------------------------------------------------------
    def _smtp(self, conn):
        conn.sendall(b'220 fake.test ESMTP ready\r\n')
        line = self._readline(conn)
        if not line.upper().startswith('EHLO '):
            return False
        conn.sendall(b'250-fake.test greets you\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 STARTTLS\r\n')
        line = self._readline(conn)
        if line.upper() != 'STARTTLS':
            return False
        if self.refuse:
            conn.sendall(b'454 4.7.0 TLS not available due to temporary reason\r\n')
            return False
        conn.sendall(b'220 2.0.0 Ready to start TLS\r\n')
        return True

    def _imap(self, conn):
        conn.sendall(b'* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] fake ready\r\n')
        line = self._readline(conn)
        tag, _, command = line.partition(' ')
        if command.upper() != 'STARTTLS':
            return False
        if self.refuse:
            conn.sendall(f'{tag} BAD STARTTLS not available\r\n'.encode())
            return False
        conn.sendall(b'* CAPABILITY IMAP4rev1 STARTTLS\r\n')
        conn.sendall(f'{tag} OK Begin TLS negotiation now\r\n'.encode())
        return True

    def _pop3(self, conn):
        conn.sendall(b'+OK fake POP3 server ready\r\n')
        if self._readline(conn).upper() != 'STLS':
            return False
        if self.refuse:
            conn.sendall(b'-ERR TLS not available\r\n')
            return False
        conn.sendall(b'+OK Begin TLS negotiation\r\n')
        return True

    def _ftp(self, conn):
        conn.sendall(b'220-fake FTP server\r\n220 ready\r\n')
        if self._readline(conn).upper() != 'AUTH TLS':
            return False
        if self.refuse:
            conn.sendall(b'502 AUTH TLS not available\r\n')
            return False
        conn.sendall(b'234 AUTH TLS successful\r\n')
        return True

    def _xmpp(self, conn):
        header = self._read_until(conn, b"version='1.0'>")
        if b'<stream:stream' not in header:
            return False
        conn.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams' id='fake1' from='fake.test' "
                      "version='1.0'><stream:features><starttls xmlns='" + XMPP_TLS + "'>"
                      "<required/></starttls></stream:features>").encode())
        request = self._read_until(conn, b'/>')
        if b'<starttls' not in request:
            return False
        if self.refuse:
            conn.sendall(("<failure xmlns='" + XMPP_TLS + "'/></stream:stream>").encode())
            return False
        conn.sendall(("<proceed xmlns='" + XMPP_TLS + "'/>").encode())
        return True

    def _ldap(self, conn):
        header = self._read_exactly(conn, 2)
        if len(header) < 2 or header[0] != 0x30:
            return False
        body = self._read_exactly(conn, header[1])
        self.received.append(body.hex())
        if LDAP_STARTTLS_OID not in body:
            return False
        # LDAPMessage { messageID 1, ExtendedResponse { resultCode, matchedDN "", diagnosticMessage } }
        code = 2 if self.refuse else 0
        message = b'no TLS here' if self.refuse else b''
        inner = bytes([0x0a, 0x01, code, 0x04, 0x00, 0x04, len(message)]) + message
        response = bytes([0x02, 0x01, 0x01, 0x78, len(inner)]) + inner
        conn.sendall(bytes([0x30, len(response)]) + response)
        return not self.refuse

    def _postgres(self, conn):
        request = self._read_exactly(conn, 8)
        self.received.append(request.hex())
        if request != bytes([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]):
            return False
        conn.sendall(b'N' if self.refuse else b'S')
        return not self.refuse

    # -----------------------------------------------------------------------
    def _serve(self):
        try:
            conn, _ = self.listener.accept()
        except OSError as e:
            self.error = e
            self.done.set()
            return
        conn.settimeout(20)
        try:
            if getattr(self, '_' + self.protocol)(conn):
                tls = self.context.wrap_socket(conn, server_side=True)
                self.tls_version = tls.version()
                try:
                    data = tls.recv(1024)
                    if data:
                        tls.sendall(b'echo: ' + data)
                        tls.recv(1024)
                    tls.unwrap()
                except (ssl.SSLError, OSError):
                    pass
                tls.close()
            else:
                conn.close()
        except Exception as e:  # noqa: BLE001 — reported by the test
            self.error = e
            conn.close()
        finally:
            self.done.set()

    def close(self):
        self.done.wait(20)
        self.listener.close()
        self.thread.join(5)
