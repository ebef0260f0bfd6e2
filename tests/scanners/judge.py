#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Judges the outputs of testssl.sh and sslscan (tests/scanners/run.sh).

Usage: judge.py RESULTS_DIR VERSIONS
Reads RESULTS_DIR/testssl.log, testssl.json and sslscan.xml; prints a
Markdown summary; exits 1 if there is anything "VULNERABLE" or "NOT ok" in
testssl.sh's report, or a protocol below TLS 1.2 offered (by either
scanner's account), 2 if an output is missing or unreadable.
"""

import datetime
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

OLD_PROTOCOLS_TESTSSL = {"SSLv2": "SSLv2", "SSLv3": "SSLv3", "TLS1": "TLS 1.0", "TLS1_1": "TLS 1.1"}
OLD_PROTOCOLS_SSLSCAN = {("ssl", "2"): "SSLv2", ("ssl", "3"): "SSLv3",
                         ("tls", "1.0"): "TLS 1.0", ("tls", "1.1"): "TLS 1.1"}


def main():
    results, versions = sys.argv[1], sys.argv[2]
    try:
        with open(os.path.join(results, "testssl.log"), encoding="utf-8", errors="replace") as f:
            log_lines = f.read().splitlines()
        with open(os.path.join(results, "testssl.json"), encoding="utf-8") as f:
            findings = json.load(f)
        sslscan = ET.parse(os.path.join(results, "sslscan.xml")).getroot()
    except (OSError, ValueError, ET.ParseError) as e:
        print(f"judge.py: cannot read the scanners' outputs: {e}", file=sys.stderr)
        return 2

    failures = []

    # testssl.sh's words for a problem, in its report as a person reads it.
    for line in log_lines:
        if "VULNERABLE" in line or "NOT ok" in line:
            failures.append(f"testssl.sh: `{line.strip()}`")

    by_id = {f["id"]: f for f in findings}
    protocols = []
    for pid, name in list(OLD_PROTOCOLS_TESTSSL.items()) + [("TLS1_2", "TLS 1.2"), ("TLS1_3", "TLS 1.3")]:
        finding = by_id.get(pid, {}).get("finding", "(not tested)")
        protocols.append((name, finding))
        if pid in OLD_PROTOCOLS_TESTSSL and not finding.startswith("not offered"):
            failures.append(f"testssl.sh: {name} {finding}")
    if not any(by_id.get(p, {}).get("finding", "").startswith("offered") for p in ("TLS1_2", "TLS1_3")):
        failures.append("testssl.sh: neither TLS 1.2 nor TLS 1.3 offered: the scan did not work")

    sslscan_protocols = []
    for proto in sslscan.iter("protocol"):
        key = (proto.get("type"), proto.get("version"))
        enabled = proto.get("enabled") == "1"
        label = OLD_PROTOCOLS_SSLSCAN.get(key, f"{key[0].upper()}v{key[1]}")
        sslscan_protocols.append((label, enabled))
        if key in OLD_PROTOCOLS_SSLSCAN and enabled:
            failures.append(f"sslscan: {label} enabled")
    if not sslscan_protocols:
        failures.append("sslscan: no protocol in its report: the scan did not work")
    accepted = [(c.get("sslversion"), c.get("cipher"), c.get("status"))
                for c in sslscan.iter("cipher")]
    for version, cipher, _ in accepted:
        if version in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1"):
            failures.append(f"sslscan: {cipher} accepted with {version}")

    # Everything else testssl.sh rated above OK/INFO: reported, for a person
    # to judge (a missing HSTS header is the test server's, not the library's).
    notes = [f for f in findings
             if f.get("severity") not in ("OK", "INFO", "DEBUG")]

    out = []
    out.append("# Protocol scanner results (tests/scanners/run.sh)")
    out.append("")
    out.append(f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    out.append(f"- Versions: {versions}")
    out.append("- Target: `gsecsock serve --http` on 127.0.0.1, every TLS setting left to the "
               "library's defaults; its certificate is the scanner's own leaf from the test PKI "
               "(ECDSA P-256, 90 days, CRL and OCSP URIs that nobody fetches), with the test CA "
               "given to testssl.sh (`--add-ca`)")
    out.append(f"- Verdict: **{'FAIL' if failures else 'PASS'}**")
    out.append("")
    if failures:
        out.append("## Failures")
        out.append("")
        out.extend(f"- {f}" for f in failures)
        out.append("")
    out.append("## Protocols")
    out.append("")
    out.append("| Protocol | testssl.sh | sslscan |")
    out.append("| --- | --- | --- |")
    scan = dict(sslscan_protocols)
    for name, finding in protocols:
        label = name if name in scan else name.replace("TLS ", "TLSv")
        sslscan_word = {True: "enabled", False: "disabled"}.get(scan.get(label), "—")
        out.append(f"| {name} | {finding} | {sslscan_word} |")
    out.append("")
    out.append("## Ciphers accepted (sslscan, server order)")
    out.append("")
    for version, cipher, status in accepted:
        out.append(f"- {version} {cipher}{' (preferred)' if status == 'preferred' else ''}")
    out.append("")
    out.append("## Other testssl.sh findings above OK/INFO")
    out.append("")
    if notes:
        out.extend(f"- {n['id']} ({n['severity']}): {n['finding']}" for n in notes)
    else:
        out.append("- none")
    out.append("")
    vuln_lines = []
    in_vulns = False
    for line in log_lines:
        if line.strip().startswith("Testing vulnerabilities"):
            in_vulns = True
            continue
        if in_vulns and re.match(r"^ Testing |^ Running ", line):
            break
        if in_vulns and line.strip():
            vuln_lines.append(line.rstrip())
    out.append("## testssl.sh vulnerability checks")
    out.append("")
    out.append("```")
    out.extend(vuln_lines)
    out.append("```")
    print("\n".join(out))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
