# SPDX-License-Identifier: LGPL-2.1-or-later
"""Protocol selection, cipher settings, the certificate status after a
failed connection, DER trust anchors, chain certificates and CRLs, from
Python: what tests/test-config.c, test-status.c and test-revocation.c check
in C, through the bindings."""

import unittest

from testutils import GLib, GSecSock, GuardedTestCase, Pair, client_context, pki_path, server_context


def der_of(name):
    return GSecSock.Certificate.new_from_file(pki_path(name)).get_der()


class ConfigTest(GuardedTestCase):

    def test_info(self):
        self.assertTrue(GSecSock.is_supported())
        self.assertTrue(GSecSock.get_openssl_version().startswith('OpenSSL 3.'))
        self.assertGreaterEqual(GSecSock.get_openssl_version_number(), 0x30000000)
        protocols = GSecSock.get_supported_protocols()
        self.assertTrue(protocols & GSecSock.Protocols.TLS_1_3)
        self.assertFalse(protocols & GSecSock.Protocols.SSL_3_0)
        self.assertTrue(GSecSock.get_features() & GSecSock.Features.ASYNC)

    def test_protocols(self):
        ctx = client_context()
        self.assertEqual(ctx.props.protocols, GSecSock.Protocols.TLS_1_2 | GSecSock.Protocols.TLS_1_3)
        ctx.set_protocols(GSecSock.Protocols.TLS_1_3)
        self.assertEqual(ctx.props.min_protocol_version, GSecSock.ProtocolVersion.TLS_1_3)

        with self.assertRaises(GLib.Error) as caught:
            ctx.set_protocols(GSecSock.Protocols.SSL_3_0 | GSecSock.Protocols.TLS_1_2)
        self.assertTrue(caught.exception.matches(GSecSock.error_quark(), GSecSock.Error.PROTOCOL_VERSION))
        self.assertIn('SSL 3.0 is not supported', caught.exception.message)

        with self.assertRaises(GLib.Error) as caught:
            ctx.set_protocols(GSecSock.Protocols.TLS_1_0 | GSecSock.Protocols.TLS_1_1 |
                              GSecSock.Protocols.TLS_1_2)
        self.assertIn('security-level to 0', caught.exception.message)
        self.assertEqual(ctx.get_protocols(), GSecSock.Protocols.TLS_1_3)

        ctx.set_security_level(0)
        ctx.set_protocols(GSecSock.Protocols.TLS_1_0 | GSecSock.Protocols.TLS_1_1 | GSecSock.Protocols.TLS_1_2)
        self.assertEqual(ctx.props.min_protocol_version, GSecSock.ProtocolVersion.TLS_1_0)

    def test_ciphers(self):
        client = client_context()
        client.set_protocols(GSecSock.Protocols.TLS_1_2)
        client.set_cipher_list('ECDHE-ECDSA-CHACHA20-POLY1305')
        self.assertEqual(client.props.cipher_list, 'ECDHE-ECDSA-CHACHA20-POLY1305')
        with self.assertRaises(GLib.Error) as caught:
            client.set_cipher_list('HIGH:!aNUL')
        self.assertTrue(caught.exception.matches(GSecSock.error_quark(), GSecSock.Error.INVALID_SETTING))
        self.assertIn('aNUL', caught.exception.message)
        self.assertEqual(client.props.cipher_list, 'ECDHE-ECDSA-CHACHA20-POLY1305')
        with self.assertRaises(GLib.Error):
            client.set_ciphersuites('TLS_NOPE')
        with self.assertRaises(GLib.Error):
            client.set_groups('P-255')
        client.set_groups('x25519:P-256')

        pair = Pair(client, server_context())
        self.addCleanup(pair.close)
        self.assertEqual(pair.handshake(), (None, None))
        self.assertEqual(pair.client.props.cipher_name, 'ECDHE-ECDSA-CHACHA20-POLY1305')

    def test_status_after_failure(self):
        pair = Pair(client_context(), server_context('expired-chain.pem', 'expired.key'))
        self.addCleanup(pair.close)
        self.assertEqual(pair.client.props.certificate_status, GSecSock.CertificateStatus.UNKNOWN)
        client_error, _ = pair.handshake()
        self.assertTrue(client_error.matches(GSecSock.error_quark(), GSecSock.Error.CERTIFICATE_REJECTED))
        self.assertEqual(pair.client.props.certificate_status.value_nick, 'expired')
        self.assertEqual(GSecSock.CertificateStatus.to_string(pair.client.props.certificate_status), 'expired')
        self.assertIn('localhost', pair.client.props.peer_certificate.get_subject())

    def test_der_anchor_and_chain_certificate(self):
        ctx = GSecSock.SecureSocketContext.new(GSecSock.Mode.CLIENT)
        ctx.set_use_system_trust(False)
        ctx.add_trust_anchor_der(der_of('ca.pem'))
        with self.assertRaises(GLib.Error):
            ctx.add_trust_anchor_der(GLib.Bytes.new(b'not a certificate'))

        # The server sends its certificate without the intermediate.
        server = server_context('server.pem', 'server.key')
        pair = Pair(ctx, server)
        self.addCleanup(pair.close)
        client_error, _ = pair.handshake()
        self.assertIsNotNone(client_error)
        self.assertEqual(pair.client.props.certificate_status, GSecSock.CertificateStatus.UNTRUSTED_SIGNERS)

        ctx.add_chain_certificate(GSecSock.Certificate.new_from_der(der_of('intermediate.pem')))
        pair2 = Pair(ctx, server)
        self.addCleanup(pair2.close)
        self.assertEqual(pair2.handshake(), (None, None))
        self.assertEqual(pair2.client.props.certificate_status.value_nick, 'trusted')

    def test_revocation(self):
        ctx = client_context()
        ctx.add_crl_file(pki_path('intermediate.crl.pem'))
        ctx.props.check_revocation = GSecSock.RevocationCheck.LEAF
        pair = Pair(ctx, server_context('revoked-chain.pem', 'revoked.key'))
        self.addCleanup(pair.close)
        client_error, _ = pair.handshake()
        self.assertIn('has been revoked', client_error.message)
        self.assertEqual(pair.client.props.certificate_status.value_nick, 'revoked')
        self.assertTrue(pair.client.props.certificate_errors & GSecSock.CertificateFlags.REVOKED)

        with self.assertRaises(GLib.Error) as caught:
            ctx.add_crl_file(pki_path('server.pem'))
        self.assertTrue(caught.exception.matches(GSecSock.error_quark(), GSecSock.Error.BAD_CRL_FILE))


if __name__ == '__main__':
    unittest.main()
