"""TLS with client certificates on every link, and token roles (issue 16 item 3), with real
certificates made by openssl in a temp dir and the real binaries:
  - the telephony server requires a client certificate (--tls-client-ca); the remediator dials it
    with its own certificate (telephony.tls YAML keys) and lists its calls through it;
  - the remediator requires one too; remediatorctl (--tls-ca/--tls-cert/--tls-key) and the
    log-shipper (same flags) get through with one, and are refused without one;
  - tokens have roles: the reporter may only report, the viewer may only read, the operator all;
    refusals are logged without the token."""
import os
import subprocess
import tempfile

from procs import Results, Server, binary, run

r = Results()
d = tempfile.mkdtemp(prefix="tls-roles-")


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=d)


# A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by it.
openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
        "-keyout", "ca.key", "-out", "ca.pem")
with open(os.path.join(d, "san.ext"), "w") as f:
    f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
for name, ext in [("server", ["-extfile", "san.ext"]), ("client", [])]:
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout",
            name + ".key", "-out", name + ".csr")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "1", "-out", name + ".pem", *ext)
# A second CA whose client certificate the servers must refuse.
openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other",
        "-keyout", "other.key", "-out", "other.pem")
p = lambda name: os.path.join(d, name)
tokens = {"operator": "op-token-1f2e", "viewer": "view-token-3a4b", "reporter": "rep-token-5c6d"}
for role, token in tokens.items():
    with open(p(role), "w") as f:
        f.write(token + "\n")

tls_server = ["--tls-cert", p("server.pem"), "--tls-key", p("server.key"),
              "--tls-client-ca", p("ca.pem")]
telephony = Server("telephony", ["--listen", "127.0.0.1:0", "--state-dir", p("telephony"),
                                 "--auth-token-file", p("operator")] + tls_server)
with open(p("remediator.yaml"), "w") as f:
    f.write("""telephony:
  address: %s
  token_file: %s
  tls: {ca_file: %s, cert_file: %s, key_file: %s}
""" % (telephony.address, p("operator"), p("ca.pem"), p("client.pem"), p("client.key")))
remediator = Server("remediator", ["--config", p("remediator.yaml"), "--listen", "127.0.0.1:0",
                                   "--state-dir", p("remediator"),
                                   "--auth-token-file", p("operator"),
                                   "--viewer-token-file", p("viewer"),
                                   "--reporter-token-file", p("reporter")] + tls_server)
client_tls = ["--tls-ca", p("ca.pem"), "--tls-cert", p("client.pem"), "--tls-key", p("client.key")]


def ctl(role, args, tls=None):
    return run("remediatorctl", ["--server", remediator.address, "--token-file", p(role),
                                 "-o", "json"] + (client_tls if tls is None else tls) + args)


# remediator -> telephony over mutual TLS: `calls` goes through the remediator's Phone.
code, out, err = ctl("operator", ["calls"])
r.check(code == 0, "remediator lists calls through the telephony server over mTLS (%d: %s)"
        % (code, err))
# remediatorctl straight to the telephony server, with and without a client certificate.
code, _, err = run("remediatorctl", ["--server", "", "--telephony", telephony.address,
                                     "--token-file", p("operator")] + client_tls + ["calls"])
r.check(code == 0, "remediatorctl -> telephony with a client certificate (%d: %s)" % (code, err))
code, _, err = run("remediatorctl", ["--server", "", "--telephony", telephony.address,
                                     "--token-file", p("operator"), "--tls-ca", p("ca.pem"),
                                     "--timeout", "3", "calls"])
r.check(code == 1, "no client certificate: refused by the telephony server (%d)" % code)

# remediatorctl -> remediator: certificates.
code, _, err = ctl("operator", ["incidents"], tls=["--tls-ca", p("ca.pem"), "--timeout", "3"])
r.check(code == 1, "no client certificate: refused (%d)" % code)
code, _, err = ctl("operator", ["incidents"],
                   tls=["--tls-ca", p("ca.pem"), "--tls-cert", p("other.pem"), "--tls-key",
                        p("other.key"), "--timeout", "3"])
r.check(code == 1, "a client certificate from another CA: refused (%d)" % code)
code, _, err = ctl("operator", ["incidents"], tls=["--timeout", "3"])
r.check(code == 1, "plaintext against the TLS server: refused (%d)" % code)

# Roles.
pod = ('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"shop"},'
       '"status":{"phase":"Running","containerStatuses":[{"name":"web","restartCount":5,'
       '"state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":'
       '{"exitCode":137,"reason":"OOMKilled"}}}]}}\n')
with open(p("pod.jsonl"), "w") as f:
    f.write(pod)
code, _, err = ctl("reporter", ["report", "-f", p("pod.jsonl")])
r.check(code == 0, "reporter may report (%d: %s)" % (code, err))
code, _, err = ctl("reporter", ["incidents"])
r.check(code == 1 and "reporter role" in err, "reporter may not read (%d: %s)" % (code, err))
code, out, err = ctl("viewer", ["incidents"])
r.check(code == 0 and "oom_killed" in out.lower(), "viewer may read (%d: %s)" % (code, err))
code, _, err = ctl("viewer", ["report", "-f", p("pod.jsonl")])
r.check(code == 1 and "viewer role" in err, "viewer may not report (%d: %s)" % (code, err))
code, _, err = ctl("operator", ["incidents"])
r.check(code == 0, "operator may read (%d: %s)" % (code, err))

# The log-shipper over mutual TLS with the reporter token; refused without a certificate.
logs = p("logs")
os.makedirs(logs)
with open(os.path.join(logs, "web-1_shop_app-" + "ab" * 32 + ".log"), "w") as f:
    for i in range(20):
        f.write("2026-11-26T08:00:00.1Z stderr F panic: nil map %d\n" % i)
shipper = ["--server", remediator.address, "--paths", os.path.join(logs, "*.log"),
           "--token-file", p("reporter"), "--once"]
code, _, err = run("log-shipper", shipper + ["--state-dir", p("ship1")] + client_tls, timeout=60)
r.check(code == 0 and "lines_acknowledged=20" in err,
        "log-shipper over mTLS acknowledged 20 lines (%d: %s)" % (code, err[-400:]))
# Without a certificate the handshake fails and the shipper retries (the server may come back):
# stop it after a few seconds and check that nothing was acknowledged.
proc = subprocess.Popen(["timeout", "5", binary("log-shipper")] + shipper +
                        ["--state-dir", p("ship2"), "--tls-ca", p("ca.pem")],
                        stderr=subprocess.PIPE, text=True)
_, err = proc.communicate()
r.check(proc.returncode != 0 and "lines_acknowledged=20" not in err,
        "log-shipper without a client certificate ships nothing (%d)" % proc.returncode)

# Refusals are logged with method and reason, never with the token.
remediator.stop()
log = remediator.stderr()
r.check("refused a call" in log and "reporter role" in log, "refusals are logged")
r.check(all(t not in log for t in tokens.values()), "no token appears in the log")
telephony.stop()
r.finish()
