/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gsecsock command-line tool: declarations shared by its commands.
 *
 * The tool uses only gsecsock's public API and GLib; generate.c alone also
 * uses OpenSSL's libcrypto, to make a throw-away certificate authority.
 */
#pragma once

#include <stdio.h>

#include <glib/gi18n.h>
#include <gsecsock/gsecsock.h>

#include "gsecsock-tool-config.h"

G_BEGIN_DECLS

/* Exit codes: documented in every command's --help and in gsecsock(1). */
typedef enum {
  TOOL_EXIT_OK           = 0,   /* done */
  TOOL_EXIT_FAILURE      = 1,   /* an error after the handshake (I/O, truncation) or another failure */
  TOOL_EXIT_USAGE        = 2,   /* bad command line */
  TOOL_EXIT_CONNECTION   = 3,   /* no connection: name, refused, unreachable, timeout, STARTTLS, cannot listen */
  TOOL_EXIT_HANDSHAKE    = 4,   /* the TLS handshake failed (versions, ALPN, alert from the peer, not TLS) */
  TOOL_EXIT_VERIFICATION = 5,   /* the peer's certificate (or the inspected chain) was not accepted */
  TOOL_EXIT_FILE         = 6,   /* a certificate, key, CA, CRL or store could not be loaded */
  TOOL_EXIT_INTERRUPTED  = 130, /* interrupted by SIGINT or SIGTERM (connect) */
} ToolExit;

/* Text shared by every --help: the exit codes. */
const char *tool_exit_codes_help (void);

/* ---- main.c ------------------------------------------------------------ */
int tool_connect (int argc, char **argv);
int tool_serve   (int argc, char **argv);
int tool_inspect (int argc, char **argv);

/* ---- common.c ---------------------------------------------------------- */

/* Options shared by the commands that make a context. */
typedef struct {
  char   **ca_files;          /* --ca */
  gboolean no_system_trust;   /* --no-system-trust */
  char   **crl_files;         /* --crl */
  char    *check_revocation;  /* --check-revocation */
  char    *cert_file;         /* --cert */
  char    *key_file;          /* --key */
  char    *password_file;     /* --password-file */
  char    *alpn;              /* --alpn */
  char    *min_version;       /* --min-version */
  char    *max_version;       /* --max-version */
  char    *ciphers;           /* --ciphers */
  char    *ciphersuites;      /* --ciphersuites */
  char    *groups;            /* --groups */
  int      security_level;    /* --security-level, -1 when not given */
  char    *keylog_file;       /* --keylog */
  gboolean trace;             /* --trace */
  gboolean json;              /* --json */
  char    *color;             /* --color */
  GSecSockCertificate *identity;  /* what --cert loaded */
} ToolContextOptions;

void          tool_context_options_init  (ToolContextOptions *options);
void          tool_context_options_clear (ToolContextOptions *options);
/* Option entries for @options; @which is a combination of these: */
#define TOOL_OPTIONS_TRUST   (1 << 0)
#define TOOL_OPTIONS_IDENTITY (1 << 1)
#define TOOL_OPTIONS_TLS     (1 << 2)
#define TOOL_OPTIONS_OUTPUT  (1 << 3)
GOptionGroup *tool_context_option_group  (ToolContextOptions *options,
                                          guint               which,
                                          const char         *name,
                                          const char         *description,
                                          const char         *help_description);

/* Applies @options to @ctx. On error returns the exit code (and sets
 * @error); TOOL_EXIT_OK otherwise. Loading a certificate asks for the key's
 * password with password-requested (on the terminal, or from
 * --password-file). */
int  tool_context_apply (GSecSockSecureSocketContext *ctx,
                         ToolContextOptions          *options,
                         guint                        which,
                         GError                     **error);

/* Connects the password-requested handler of the tool to @ctx. */
void tool_context_handle_passwords (GSecSockSecureSocketContext *ctx,
                                    const char                  *password_file);

gboolean tool_parse_version (const char              *text,
                             GSecSockProtocolVersion *version,
                             GError                 **error);
const char *tool_protocol_name (GSecSockProtocolVersion version);

/* HOST[:PORT], [IPv6]:PORT, or an IPv6 address alone. */
gboolean tool_parse_host_port (const char *text,
                               guint16     default_port,
                               char      **host,
                               guint16    *port,
                               GError    **error);

/* Whether the certificate is valid for @name (a DNS name or an IP
 * address), by its subject alternative names (or, without DNS names, its
 * common name), as OpenSSL checks it. */
gboolean tool_certificate_matches_name (GSecSockCertificate *certificate,
                                        const char          *name);

/* "ab:cd:..." lowercase from "sha256:AB:CD…", "abcd…"; NULL if malformed. */
char *tool_normalize_fingerprint (const char *text);

/* The exit code for an error of the handshake phase. */
int  tool_exit_code_for_handshake_error (const GError *error);
/* The exit code for an error loading configuration files. */
int  tool_exit_code_for_file_error (const GError *error);

/* Splits "a,b , c" into a vector of non-empty, trimmed names. */
GStrv tool_split_list (const char *text);

/* Seconds on a monotonic clock since the tool started. */
double tool_elapsed (void);

/* The command's option context with the common presentation; @summary and
 * @description are translated already. */
GOptionContext *tool_option_context_new (const char *command,
                                         const char *parameter,
                                         const char *summary,
                                         const char *description);
/* Parses; on error prints it with a pointer to --help and returns FALSE. */
gboolean tool_option_context_parse (GOptionContext *context,
                                    const char     *command,
                                    int            *argc,
                                    char         ***argv);

/* Prints "gsecsock COMMAND: MESSAGE" on stderr. */
void tool_error (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);
void tool_warning (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* ---- output.c ---------------------------------------------------------- */

typedef enum {
  TOOL_COLOR_NONE,
  TOOL_COLOR_BOLD,
  TOOL_COLOR_DIM,
  TOOL_COLOR_GOOD,
  TOOL_COLOR_BAD,
  TOOL_COLOR_WARN,
  TOOL_COLOR_INFO,
} ToolColor;

/* Where the human report goes, with colour when it is a terminal. */
typedef struct {
  FILE    *stream;
  gboolean color;
} ToolOutput;

/* --color=auto|always|never for @stream. FALSE on a bad value. */
gboolean tool_output_init (ToolOutput  *out,
                           FILE        *stream,
                           const char  *color,
                           GError     **error);
void tool_out (ToolOutput *out, ToolColor color, const char *format, ...) G_GNUC_PRINTF (3, 4);
void tool_out_flush (ToolOutput *out);

/* One certificate as the tool shows it (connect, inspect, serve). */
typedef struct {
  GSecSockCertificate     *certificate;
  int                      depth;        /* -1: not part of a verified chain */
  gboolean                 verified;     /* verify-certificate was emitted for it */
  GSecSockCertificateFlags errors;       /* every problem found */
  gboolean                 accepted;     /* the answer given for it */
  const char              *accepted_by;  /* why, when it has problems: "pin", "user", "yes", "no-verify" */
  gboolean                 from_peer;    /* sent by the peer (or in the file) */
  gboolean                 undecided;    /* only checked (inspect): neither accepted nor rejected */
  char                    *note;         /* anything else to say about it */
} ToolCertEntry;

ToolCertEntry *tool_cert_entry_new  (GSecSockCertificate *certificate);
void           tool_cert_entry_free (ToolCertEntry *entry);

/* Translated description of each problem in @errors, ", "-separated;
 * @name replaces the host in "not valid for …" (may be NULL). */
char  *tool_describe_errors (GSecSockCertificateFlags errors,
                             const char              *name);
/* The nicks of @errors, as a NULL-terminated array (JSON). */
GStrv  tool_error_nicks (GSecSockCertificateFlags errors);

void   tool_print_certificate (ToolOutput          *out,
                               const ToolCertEntry *entry,
                               const char          *label,
                               const char          *verify_name,
                               gboolean             show_verification);

/* A handshake-info event, for --trace. */
typedef struct {
  double                     time;
  GSecSockHandshakeInfoFlags where;
  int                        value;
  char                      *description;
  guint                      connection;   /* serve: the connection's number */
} ToolTraceEvent;

void  tool_trace_event_free (ToolTraceEvent *event);
void  tool_print_trace_event (ToolOutput *out, const ToolTraceEvent *event);
char *tool_trace_kind (GSecSockHandshakeInfoFlags where);

/* A small JSON writer. */
typedef struct {
  GString *buffer;
  gboolean pretty;
  int      depth;
  gboolean need_comma;
} ToolJson;

void  tool_json_init         (ToolJson *json, gboolean pretty);
char *tool_json_finish       (ToolJson *json);   /* the text; frees the writer */
void  tool_json_begin_object (ToolJson *json, const char *key);
void  tool_json_end_object   (ToolJson *json);
void  tool_json_begin_array  (ToolJson *json, const char *key);
void  tool_json_end_array    (ToolJson *json);
void  tool_json_string       (ToolJson *json, const char *key, const char *value);
void  tool_json_int          (ToolJson *json, const char *key, gint64 value);
void  tool_json_double       (ToolJson *json, const char *key, double value);
void  tool_json_bool         (ToolJson *json, const char *key, gboolean value);
void  tool_json_null         (ToolJson *json, const char *key);
void  tool_json_strv         (ToolJson *json, const char *key, const char * const *values);
void  tool_json_error        (ToolJson *json, const char *key, const GError *error);
void  tool_json_certificate  (ToolJson *json, const char *key, const ToolCertEntry *entry);
void  tool_json_trace_event  (ToolJson *json, const char *key, const ToolTraceEvent *event);

/* ---- starttls.c -------------------------------------------------------- */

typedef enum {
  TOOL_STARTTLS_NONE,
  TOOL_STARTTLS_SMTP,
  TOOL_STARTTLS_IMAP,
  TOOL_STARTTLS_POP3,
  TOOL_STARTTLS_FTP,
  TOOL_STARTTLS_XMPP,
  TOOL_STARTTLS_LDAP,
  TOOL_STARTTLS_POSTGRES,
} ToolStartTls;

gboolean     tool_starttls_parse        (const char *name, ToolStartTls *protocol);
const char  *tool_starttls_name         (ToolStartTls protocol);
guint16      tool_starttls_default_port (ToolStartTls protocol);
const char  *tool_starttls_names        (void);
/* Speaks the plain-text part of @protocol on @connection, through @input
 * (a buffered reader of the connection's input, which the caller then
 * hands to gsecsock_secure_socket_new_with_input_buffer()). @host is the
 * server's name (XMPP's "to"), @client_name what the client calls itself
 * (SMTP's EHLO). Lines exchanged are appended to @transcript. */
gboolean tool_starttls_negotiate (ToolStartTls      protocol,
                                  GIOStream        *connection,
                                  GDataInputStream *input,
                                  const char       *host,
                                  const char       *client_name,
                                  GString          *transcript,
                                  GCancellable     *cancellable,
                                  GError          **error);

/* ---- generate.c -------------------------------------------------------- */

typedef struct {
  char *directory;
  char *ca_file;
  char *ca_key_file;
  char *cert_file;        /* localhost: DNS localhost, IP 127.0.0.1 and ::1 */
  char *key_file;
  char *client_cert_file; /* a client certificate from the same CA */
  char *client_key_file;
} ToolGeneratedPki;

/* Makes a throw-away CA, a localhost server certificate and a client
 * certificate in @directory (created if missing), all P-256/SHA-256,
 * valid for 30 days. */
gboolean tool_generate_pki (const char        *directory,
                            ToolGeneratedPki  *pki,
                            GError           **error);
void     tool_generated_pki_clear  (ToolGeneratedPki *pki);
/* Removes the files tool_generate_pki() wrote, and the directory. */
void     tool_generated_pki_remove (ToolGeneratedPki *pki);

G_END_DECLS
