#!/usr/bin/env python3
"""Writes the bad-input corpus under tests/bad/<kind>/<case>/ (run from anywhere; it replaces
the generated directories). Each case: the input files, and case.toml with `args` (kmsdns
arguments, run in the case's directory so the default `kmsdns.toml` is the case's), `exit`
(the expected exit code) and `secrets` (strings that must appear in no output).
`@SERVER@` in any file or argument is replaced by tests/it/bad_corpus.rs with the address of a
counting UDP+TCP socket pair on 127.0.0.1: every case must be decided before any packet."""
import json
import os
import shutil

ROOT = os.path.dirname(os.path.abspath(__file__))
KINDS = ["config", "key", "plan", "cli"]
SECRET = "Y29ycHVzLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVmISE="  # 32 octets
ENV_SECRET = "ZW52LXNlY3JldC1mb3ItdGhlLWNvcnB1cy0wMTIzNDU="
KEYFILE = 'key "kms-update" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' % SECRET

HEAD = """[keys.kms-update]
file = "kms-update.key"

[servers.s]
address = "@SERVER@"
key = "kms-update"
timeout = "200ms"
retries = 0
"""
HOSTS = '[[hosts]]\nname = "kms1.example.com"\n'
DOMS = '[[domains]]\nname = "example.com"\nzone = "example.com"\nserver = "s"\n'
BASE = HEAD + "\n" + HOSTS + "\n" + DOMS

cases = {}  # (kind, name) -> dict


def case(kind, name, files, args=("validate",), exit=3, secrets=(SECRET,)):
    bug = None
    if name in OK_CASES:
        exit = 0
    if name in BUGS:
        exit, bug = BUGS[name]
        name += "-BUG"
    assert (kind, name) not in cases, name
    cases[(kind, name)] = dict(files=files, args=list(args), exit=exit, secrets=list(secrets), bug=bug)


OK_CASES = {"host-name-idn-emoji-accepted", "domain-name-idn-symbol", "host-name-name-254-octets-plus-dot",
            "server-address-ipv4-octet-256", "server-address-ipv6-no-brackets-port", "secret-too-short-1-octet",
            "secret-with-space"}
# Cases where kmsdns breaks its contract today: the name ends in -BUG, `exit` is today's code,
# and case.toml says what is wrong (`bug`); the runner checks only the exit code and snapshot.
BUGS = {
}


def cfg(name, toml, args=("validate",), exit=3, key=KEYFILE, extra=None):
    files = {"kmsdns.toml": toml}
    if key is not None:
        files["kms-update.key"] = key
    files.update(extra or {})
    case("config", name, files, args, exit)


def with_server(line):
    return HEAD.replace('retries = 0\n', 'retries = 0\n' + line + "\n") + "\n" + HOSTS + "\n" + DOMS


def server_field(field, value):
    """BASE with `field = value` in [servers.s] (replacing it when present)."""
    lines = HEAD.splitlines()
    out, done = [], False
    for l in lines:
        if l.startswith(field + " = ") and not done:
            out.append(f"{field} = {value}")
            done = True
        else:
            out.append(l)
    if not done:
        out.append(f"{field} = {value}")
    return "\n".join(out) + "\n\n" + HOSTS + "\n" + DOMS


def host_field(field, value):
    return HEAD + "\n" + HOSTS + f"{field} = {value}\n\n" + DOMS


def dom_field(field, value):
    return HEAD + "\n" + HOSTS + "\n" + DOMS + f"{field} = {value}\n"


def defaults(body):
    return "[defaults]\n" + body + "\n\n" + BASE


def host_name(v):
    return HEAD + "\n" + f"[[hosts]]\nname = {v}\n\n" + DOMS.replace('zone = "example.com"\n', "")


def dom_name(v):
    return HEAD + "\n" + HOSTS + "\n" + f'[[domains]]\nname = {v}\nserver = "s"\n'


# ---- configs: syntax -------------------------------------------------------------------------
for n in [10, 40, 80, 120, 160, len(BASE) - 3]:
    cfg(f"truncated-at-{n}", BASE[:n])
cfg("empty-file", "")
cfg("only-comments", "# nothing here\n")
cfg("unclosed-string", BASE.replace('"kms1.example.com"', '"kms1.example.com'))
cfg("unclosed-table-header", BASE.replace("[servers.s]", "[servers.s"))
cfg("unclosed-array", BASE + 'client_suffixes = ["a.example.com"\n')
cfg("missing-equals", BASE.replace('retries = 0', 'retries 0'))
cfg("duplicate-key", BASE.replace('retries = 0', 'retries = 0\nretries = 1'))
cfg("duplicate-table", BASE + "\n[servers.s]\naddress = \"127.0.0.1\"\n")
cfg("bare-value", BASE + "\n42\n")
cfg("garbage-line", BASE + "\n}}}{{{\n")
cfg("nul-byte", BASE.replace("kms1", "kms\x001"))
cfg("non-utf8-latin1", (BASE.replace("kms1", "kms\xe91")).encode("latin-1"))
cfg("non-utf8-in-comment", b"# caf\xe9\n" + BASE.encode())
cfg("non-utf8-lone-continuation", BASE.encode() + b"\n\x80\x80\n")
cfg("utf16le-with-bom", b"\xff\xfe" + BASE.encode("utf-16-le"))
cfg("bom-then-garbage", "\ufeff" + "=nope\n" + BASE)
cfg("crlf-unknown-key", with_server("adress = \"x\"").replace("\n", "\r\n"))
cfg("crlf-truncated", BASE.replace("\n", "\r\n")[:-20])
cfg("bare-cr-line-endings", BASE.replace("@SERVER@", "127.0.0.1:9").replace("\n", "\r"))  # one long line: no placeholder to shift the snippets
cfg("client-suffixes-after-table", BASE + 'client_suffixes = ["corp.example.com"]\n')
cfg("client-suffixes-not-array", 'client_suffixes = "corp.example.com"\n' + BASE)
cfg("client-suffixes-bad-name", 'client_suffixes = ["bad name.example"]\n' + BASE)
cfg("client-suffixes-number", "client_suffixes = [1, 2]\n" + BASE)
cfg("hosts-as-table", HEAD + '\n[hosts]\nname = "kms1.example.com"\n\n' + DOMS)
cfg("domains-as-string", HEAD + "\n" + HOSTS + 'domains = "example.com"\n')
cfg("servers-as-array", BASE.replace("[servers.s]", "[[servers]]"))
cfg("keys-as-string", 'keys = "kms-update"\n' + BASE.replace("[keys.kms-update]\nfile = \"kms-update.key\"\n", ""))
cfg("no-hosts-no-domains", HEAD)
cfg("no-domains", HEAD + "\n" + HOSTS)

# ---- configs: unknown keys ---------------------------------------------------------------------
cfg("unknown-top-level-key", "colour = \"blue\"\n" + BASE)
cfg("unknown-table", BASE + "\n[zones.example]\nname = \"example.com\"\n")
cfg("unknown-server-key-typo", with_server('adress = "127.0.0.1"'))
cfg("unknown-host-key", host_field("prio", 1))
cfg("unknown-domain-key", dom_field("hostz", '["kms1.example.com"]'))
cfg("unknown-defaults-key", defaults("ttl_seconds = 60"))
cfg("unknown-key-key", BASE.replace('file = "kms-update.key"', 'file = "kms-update.key"\npath = "x"'))
cfg("unknown-key-in-inline-host", dom_field("hosts", '[{ name = "kms1.example.com", prio = 3 }]'))
cfg("uppercase-known-key", with_server('Address = "127.0.0.1"'))

# ---- configs: wrong types and numbers ----------------------------------------------------------
for field, val in [("ttl", '"3600"'), ("ttl", "-1"), ("ttl", "2147483648"), ("ttl", "99999999999999999999"),
                   ("ttl", "1.5"), ("ttl", "true"), ("port", "0"), ("port", "-1688"), ("port", "65536"),
                   ("port", '"1688"'), ("port", "1e3"), ("priority", "-1"), ("priority", "65536"),
                   ("priority", "nan"), ("weight", "-5"), ("weight", "70000"), ("weight", "[1]"),
                   ("prune", '"yes"'), ("prune", "1"), ("retries", "-1"), ("retries", "11"),
                   ("retries", "4294967297"), ("key", "7"), ("key", '"nokey"')]:
    tag = val.strip('"[]').replace(".", "p").replace("-", "minus")
    cfg(f"defaults-{field}-{tag}".lower(), defaults(f"{field} = {val}"))
for field, val in [("ttl", "-3600"), ("ttl", "9223372036854775807"), ("port", "0"), ("port", "100000"),
                   ("port", "-1"), ("priority", "65536"), ("weight", "-1"), ("name", "42"),
                   ("name", "[]"), ("port", "inf")]:
    tag = val.strip('"[]').replace("-", "minus") or "array"
    cfg(f"host-{field}-{tag}".lower(), host_field(field, val))
cfg("host-name-missing", HEAD + "\n[[hosts]]\nport = 1688\n\n" + DOMS)
cfg("domain-name-missing", HEAD + "\n" + HOSTS + '\n[[domains]]\nzone = "example.com"\n')
cfg("domain-hosts-not-list", dom_field("hosts", '"kms1.example.com"'))
cfg("domain-hosts-numbers", dom_field("hosts", "[1, 2]"))
cfg("domain-prune-string", dom_field("prune", '"false"'))
cfg("domain-zone-number", dom_field("zone", "53").replace('zone = "example.com"\n', "", 1))
cfg("domain-inline-host-port-zero", dom_field("hosts", '[{ name = "kms1.example.com", port = 0 }]'))
cfg("domain-inline-host-ttl-negative", dom_field("hosts", '[{ name = "kms1.example.com", ttl = -1 }]'))
cfg("domain-inline-host-no-name", dom_field("hosts", "[{ priority = 1 }]"))

# ---- configs: servers --------------------------------------------------------------------------
for tag, val in [("empty", '""'), ("port-zero", '"127.0.0.1:0"'), ("port-65536", '"127.0.0.1:65536"'),
                 ("port-negative", '"127.0.0.1:-53"'), ("port-letters", '"127.0.0.1:dns"'),
                 ("ipv4-octet-256", '"127.0.0.256:53"'), ("ipv6-no-brackets-port", '"2001:db8::1:53:53"'),
                 ("ipv6-unclosed-bracket", '"[2001:db8::1:53"'), ("ipv6-bad", '"[2001:db8:::1]:53"'),
                 ("url", '"udp://127.0.0.1:53"'), ("spaces", '"127.0.0.1 :53"'), ("number", "53"),
                 ("array-empty", '[]'), ("array-nested", '[["127.0.0.1"]]'),
                 ("array-duplicate", '["127.0.0.1", "127.0.0.1:53"]'),
                 ("array-bad-element", '["127.0.0.1", "127.0.0.1:0"]'),
                 ("bad-hostname", '"ns_1.example..com:53"'),
                 ("trailing-colon", '"127.0.0.1:"'), ("only-port", '":53"')]:
    cfg(f"server-address-{tag}", server_field("address", val))
cfg("server-address-missing", BASE.replace('address = "@SERVER@"\n', ""))
for tag, val in [("quic", '"quic"'), ("empty", '""'), ("number", "1"), ("dot", '"tls"'), ("both", '"udp+tcp"')]:
    cfg(f"server-transport-{tag}", server_field("transport", val))
for tag, val in [("zero", '"0s"'), ("too-short", '"99ms"'), ("too-long", '"61s"'), ("hour", '"1h"'),
                 ("negative", '"-1s"'), ("no-unit", '"3"'), ("integer", "3"), ("garbage", '"soon"'),
                 ("empty", '""'), ("huge", '"18446744073709551616s"')]:
    cfg(f"server-timeout-{tag}", server_field("timeout", val))
for tag, val in [("negative", "-1"), ("eleven", "11"), ("huge", "18446744073709551616"), ("string", '"2"'),
                 ("float", "2.0")]:
    cfg(f"server-retries-{tag}", server_field("retries", val))
cfg("server-key-unknown", server_field("key", '"no-such-key"'))
cfg("server-key-number", server_field("key", "1"))
cfg("server-key-case-differs", server_field("key", '"KMS-UPDATE"'))

# ---- configs: references and duplicates --------------------------------------------------------
cfg("domain-server-unknown", BASE.replace('server = "s"', 'server = "nope"'))
cfg("domain-server-typo", BASE.replace('server = "s"', 'server = "S"'))
cfg("domain-host-unknown", dom_field("hosts", '["kms9.example.com"]'))
cfg("domain-host-unknown-inline", dom_field("hosts", '[{ name = "kms9.example.com" }]'))
cfg("defaults-key-unknown-server-without-key", defaults('key = "ghost"').replace('key = "kms-update"\ntimeout', "timeout"))
cfg("duplicate-host", HEAD + "\n" + HOSTS + "\n" + HOSTS + "\n" + DOMS)
cfg("duplicate-host-case", HEAD + "\n" + HOSTS + '\n[[hosts]]\nname = "KMS1.Example.COM"\n\n' + DOMS)
cfg("duplicate-host-trailing-dot", HEAD + "\n" + HOSTS + '\n[[hosts]]\nname = "kms1.example.com."\n\n' + DOMS)
cfg("duplicate-host-idn-vs-punycode", HEAD + '\n[[hosts]]\nname = "kms.bücher.example"\n\n[[hosts]]\nname = "kms.xn--bcher-kva.example"\n\n' + DOMS)
cfg("duplicate-domain", BASE + "\n" + DOMS)
cfg("duplicate-domain-trailing-dot", BASE + "\n" + DOMS.replace('"example.com"\nzone', '"example.com."\nzone'))
cfg("duplicate-domain-case", BASE + "\n" + DOMS.replace('name = "example.com"', 'name = "EXAMPLE.com"'))
cfg("duplicate-domain-idn", HEAD + "\n" + HOSTS + '\n[[domains]]\nname = "bücher.example"\nserver = "s"\n\n[[domains]]\nname = "xn--bcher-kva.example"\nserver = "s"\n')
cfg("duplicate-host-in-domain-list", dom_field("hosts", '["kms1.example.com", "kms1.example.com."]'))
cfg("zone-does-not-enclose-domain", BASE.replace('zone = "example.com"', 'zone = "example.net"'))
cfg("zone-is-subdomain-of-domain", BASE.replace('zone = "example.com"', 'zone = "sub.example.com"'))
cfg("hosts-disagree-on-ttl", HEAD + '\n[[hosts]]\nname = "kms1.example.com"\nttl = 60\n\n[[hosts]]\nname = "kms2.example.com"\nttl = 600\n\n' + DOMS)
cfg("key-file-and-secret-env", BASE.replace('file = "kms-update.key"', 'file = "kms-update.key"\nsecret_env = "KMSDNS_X"'))
cfg("key-neither-file-nor-env", BASE.replace('file = "kms-update.key"', 'algorithm = "hmac-sha256"'))
cfg("key-file-missing", BASE, key=None)
cfg("key-file-is-directory", BASE.replace('"kms-update.key"', '"keydir"'), extra={"keydir/.keep": ""})
cfg("key-file-empty-path", BASE.replace('"kms-update.key"', '""'))
# GSS-TSIG keys (type = "gss-tsig"): no shared secret, GSS-only fields only there.
GSS = 'type = "gss-tsig"\nprincipal = "kmsdns@AD.EXAMPLE.COM"'
cfg("key-gss-with-file", BASE.replace('file = "kms-update.key"', GSS + '\nfile = "kms-update.key"'))
cfg("key-gss-with-secret-env", BASE.replace('file = "kms-update.key"', GSS + '\nsecret_env = "KMSDNS_X"'))
cfg("key-gss-with-name", BASE.replace('file = "kms-update.key"', GSS + '\nname = "kms-update"'))
cfg("key-gss-algorithm-hmac", BASE.replace('file = "kms-update.key"', GSS + '\nalgorithm = "hmac-sha256"'))
cfg("key-gss-service-bad", BASE.replace('file = "kms-update.key"', GSS + '\nservice = "dc1.ad.example.com"'))
cfg("key-gss-keytab-empty", BASE.replace('file = "kms-update.key"', GSS + '\nkeytab = ""'))
cfg("key-gss-keytab-missing", BASE.replace('file = "kms-update.key"', GSS + '\nkeytab = "missing.keytab"'))
cfg("key-gss-keytab-missing-plan", BASE.replace('file = "kms-update.key"', GSS + '\nkeytab = "missing.keytab"'), args=("plan",))
cfg("key-type-unknown", BASE.replace('file = "kms-update.key"', 'type = "kerberos5"'))
cfg("key-hmac-with-principal", BASE.replace('file = "kms-update.key"', 'file = "kms-update.key"\nprincipal = "kmsdns@AD.EXAMPLE.COM"'))

# ---- configs: names ----------------------------------------------------------------------------
L63 = "a" * 63
L64 = "a" * 64
for tag, v in [("label-64-octets", f'"{L64}.example.com"'),
               ("name-256-octets", '"' + ".".join([L63] * 4) + '"'),
               ("name-254-octets-plus-dot", '"' + ".".join([L63, L63, L63, "a" * 61]) + '."'),
               ("empty", '""'), ("only-dot", '"."'), ("double-dot", '"kms1..example.com"'),
               ("leading-dot", '".kms1.example.com"'), ("underscore", '"kms_1.example.com"'),
               ("space", '"kms 1.example.com"'), ("leading-hyphen", '"-kms1.example.com"'),
               ("trailing-hyphen", '"kms1-.example.com"'), ("ipv4-address", '"192.0.2.10"'),
               ("ipv6-address", '"2001:db8::10"'), ("single-label", '"kms1"'), ("wildcard", '"*.example.com"'),
               ("bad-punycode", '"kms.xn--zz.example"'), ("punycode-not-nfc", '"xn--a.example"'),
               ("idn-emoji-accepted", '"\U0001F511.example.com"'), ("idn-label-too-long", '"' + "ü" * 60 + '.example"'),
               ("control-char", '"kms\\u0007.example.com"'), ("escaped-dot", '"kms\\\\.1.example.com"'),
               ("url", '"https://kms1.example.com"'), ("with-port", '"kms1.example.com:1688"'),
               ("number", "1688")]:
    cfg(f"host-name-{tag}", host_name(v))
for tag, v in [("label-64-octets", f'"{L64}.example.com"'), ("name-256-octets", '"' + ".".join([L63] * 4) + '"'),
               ("empty", '""'), ("root", '"."'), ("underscore-start", '"_vlmcs._tcp.example.com"'),
               ("double-dot", '"a..example.com"'), ("space", '"ex ample.com"'), ("ipv4", '"192.0.2.1"'),
               ("bad-punycode", '"xn--zz.example"'), ("idn-symbol", '"☃☃.example.com"'),
               ("two-trailing-dots", '"example.com.."')]:
    cfg(f"domain-name-{tag}", dom_name(v))
cfg("zone-name-64-octet-label", BASE.replace('zone = "example.com"', f'zone = "{L64}.com"'))
cfg("zone-name-empty", BASE.replace('zone = "example.com"', 'zone = ""'))

# ---- configs: keys -----------------------------------------------------------------------------
for tag, alg in [("md5", "hmac-md5"), ("md5-long-name", "hmac-md5.sig-alg.reg.int"), ("sha3", "hmac-sha3-256"),
                 ("empty", ""), ("gss", "gss-tsig"), ("sha224", "hmac-sha224"), ("typo", "hmac-sha265")]:
    cfg(f"key-algorithm-{tag}", BASE.replace('file = "kms-update.key"', f'file = "kms-update.key"\nalgorithm = "{alg}"'))
cfg("key-algorithm-mismatch-with-file", BASE.replace('file = "kms-update.key"', 'file = "kms-update.key"\nalgorithm = "hmac-sha512"'))
cfg("key-name-not-in-file", BASE.replace('file = "kms-update.key"', 'file = "kms-update.key"\nname = "other"'))
cfg("key-name-bad", BASE.replace('file = "kms-update.key"', f'file = "kms-update.key"\nname = "{L64}"'))
cfg("key-table-id-unicode", BASE.replace("[keys.kms-update]", '[keys."ключ"]'))

# ---- key files and secret env ------------------------------------------------------------------
def keycase(name, keytext, toml=BASE, args=("validate",), exit=3, secrets=(SECRET,), env=None):
    files = {"kmsdns.toml": toml}
    if keytext is not None:
        files["kms-update.key"] = keytext
    if env is not None:
        files["env"] = env
    case("key", name, files, args, exit, secrets)


K = 'key "kms-update" {\n\talgorithm %s;\n\tsecret "%s";\n};\n'
keycase("empty-file", "")
keycase("not-bind-format", "kms-update:" + SECRET + "\n")
keycase("missing-semicolon", K.replace("%s;", "%s", 1) % ("hmac-sha256", SECRET))
keycase("unclosed-brace", (K % ("hmac-sha256", SECRET))[:-3])
keycase("unclosed-quote", 'key "kms-update {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' % SECRET)
keycase("no-secret", 'key "kms-update" {\n\talgorithm hmac-sha256;\n};\n', secrets=())
keycase("no-algorithm", 'key "kms-update" {\n\tsecret "%s";\n};\n' % SECRET)
keycase("empty-secret", K % ("hmac-sha256", ""), secrets=())
keycase("secret-bad-base64", K % ("hmac-sha256", "Y29ycHVz!!bad-base64-secret-value"), secrets=("Y29ycHVz!!bad-base64-secret-value",))
keycase("secret-base64-bad-padding", K % ("hmac-sha256", SECRET.rstrip("=") + "=="), secrets=(SECRET.rstrip("="),))
keycase("secret-with-space", K % ("hmac-sha256", SECRET[:20] + " " + SECRET[20:]), secrets=(SECRET[:20], SECRET[20:]))
keycase("algorithm-md5", K % ("hmac-md5", SECRET))
keycase("algorithm-md5-long", K % ("hmac-md5.sig-alg.reg.int", SECRET))
keycase("algorithm-unknown", K % ("hmac-whirlpool", SECRET))
keycase("other-key-name-only", K.replace("kms-update", "someone-else") % ("hmac-sha256", SECRET))
keycase("duplicate-key-statement", (K % ("hmac-sha256", SECRET)) * 2)
keycase("binary-garbage", b"\x00\x01\x02\xff\xfe" * 20)
keycase("non-utf8-secret", ('key "kms-update" {\n\talgorithm hmac-sha256;\n\tsecret "').encode() + b"\xff\xfe" + SECRET.encode() + b'";\n};\n')
keycase("secret-too-short-1-octet", K % ("hmac-sha256", "QQ=="), secrets=())
keycase("key-name-64-octet-label", K.replace("kms-update", L64) % ("hmac-sha256", SECRET),
        toml=BASE.replace('file = "kms-update.key"', f'file = "kms-update.key"\nname = "{L64}"'))
keycase("unknown-statement", "options { };\n" + K % ("hmac-sha256", SECRET))
keycase("comment-unclosed", "/* never closed\n" + K % ("hmac-sha256", SECRET))
ENVT = HEAD.replace('file = "kms-update.key"', 'secret_env = "KMSDNS_CORPUS_TSIG"\nalgorithm = "hmac-sha256"') + "\n" + HOSTS + "\n" + DOMS
for tag, val, secs in [
        ("env-unset", None, ()),
        ("env-empty", "", ()),
        ("env-bad-base64", "not*base64*corpus-secret-zzz", ("not*base64*corpus-secret-zzz",)),
        ("env-y-form-md5", "hmac-md5:kms-update:" + ENV_SECRET, (ENV_SECRET,)),
        ("env-y-form-unknown-alg", "hmac-foo:kms-update:" + ENV_SECRET, (ENV_SECRET,)),
        ("env-y-form-wrong-name", "hmac-sha256:other-name:" + ENV_SECRET, (ENV_SECRET,)),
        ("env-y-form-empty-secret", "hmac-sha256:kms-update:", ()),
        ("env-y-form-empty-name", "hmac-sha256::" + ENV_SECRET, (ENV_SECRET,)),
        ("env-y-form-too-many-colons", "hmac-sha256:kms-update:" + ENV_SECRET + ":extra", (ENV_SECRET,)),
        ("env-y-form-bad-base64", "kms-update:%%%corpus-env-secret%%%", ("%%%corpus-env-secret%%%",)),
        ("env-y-form-alg-mismatch", "hmac-sha512:kms-update:" + ENV_SECRET, (ENV_SECRET,)),
        ("env-with-spaces", " " + ENV_SECRET + " x", (ENV_SECRET,)),
]:
    env = None if val is None else f"KMSDNS_CORPUS_TSIG={val}\n"
    keycase(tag, None, toml=ENVT, env=env, secrets=secs)
keycase("env-name-empty", None, toml=ENVT.replace('"KMSDNS_CORPUS_TSIG"', '""'), secrets=())
keycase("env-name-with-equals", None, toml=ENVT.replace('"KMSDNS_CORPUS_TSIG"', '"A=B"'), secrets=())
keycase("env-algorithm-md5", None, toml=ENVT.replace('algorithm = "hmac-sha256"', 'algorithm = "hmac-md5"'),
        env=f"KMSDNS_CORPUS_TSIG={ENV_SECRET}\n", secrets=(ENV_SECRET,))
keycase("env-bad-secret-plan", None, toml=ENVT, args=("plan",), env="KMSDNS_CORPUS_TSIG=@@corpus-plan-secret@@\n",
        secrets=("@@corpus-plan-secret@@",))
keycase("bad-keyfile-plan", "garbage\n", args=("plan",), secrets=())
keycase("bad-keyfile-apply", "garbage\n", args=("apply", "--yes"), secrets=())

# ---- saved plans --------------------------------------------------------------------------------
Z64 = "0" * 64
GOOD_SHAPE = {
    "schema": 1, "kmsdns_version": "0.1.0", "config_file": "kmsdns.toml",
    "config_sha256": Z64, "state_sha256": Z64, "plan_sha256": Z64, "zones": [], "failed_domains": [],
}
REC = {"target": "kms1.example.com.", "port": 1688, "priority": 0, "weight": 0, "ttl": 3600}
EVIL = dict(REC, target="evil.example.org.")
ZONE = {"zone": "example.com.", "zone_discovered": False, "server": "s", "server_address": "@SERVER@",
        "server_discovered": False, "transport": "udp", "timeout_ms": 200, "retries": 0, "key": "kms-update",
        "rrsets": [{"owner": "_vlmcs._tcp.example.com.", "current": [], "desired": [REC, EVIL],
                    "changes": [{"action": "add", "record": REC}, {"action": "add", "record": EVIL}],
                    "unmanaged": []}], "error": None}


def plancase(name, plan, args=None, exit=3, extra=None):
    files = {"kmsdns.toml": BASE, "kms-update.key": KEYFILE}
    if plan is not None:
        files["plan.json"] = plan if isinstance(plan, (str, bytes)) else json.dumps(plan, indent=2)
    files.update(extra or {})
    case("plan", name, files, args or ("apply", "--yes", "plan.json"), exit)


def without(k):
    d = dict(GOOD_SHAPE)
    del d[k]
    return d


def with_(**kw):
    d = dict(GOOD_SHAPE)
    d.update(kw)
    return d


plancase("not-json", "this is not json\n")
plancase("empty-file", "")
plancase("truncated-json", json.dumps(GOOD_SHAPE)[:40])
plancase("json-array", "[]")
plancase("json-null", "null")
plancase("json-string", '"plan"')
plancase("empty-object", "{}")
plancase("foreign-schema", '{"schema": 1}')
plancase("schema-99", with_(schema=99))
plancase("schema-string", with_(schema="1"))
plancase("schema-negative", with_(schema=-1))
for k in GOOD_SHAPE:
    plancase(f"missing-{k.replace('_', '-')}", without(k))
plancase("zeroed-digests", GOOD_SHAPE)
plancase("digest-not-hex", with_(plan_sha256="z" * 64))
plancase("digest-short", with_(plan_sha256="abc"))
plancase("config-digest-edited", with_(config_sha256="f" * 64))
plancase("edited-changes", with_(zones=[ZONE]))
plancase("edited-server-address", with_(zones=[dict(ZONE, server_address="192.0.2.1:53")]))
plancase("edited-key-name", with_(zones=[dict(ZONE, key="other-key")]))
plancase("edited-zone-error", with_(zones=[dict(ZONE, error="made up")]))
plancase("change-action-unknown", with_(zones=[dict(ZONE, rrsets=[dict(ZONE["rrsets"][0], changes=[{"action": "upsert", "record": REC}])])]))
plancase("record-port-out-of-range", with_(zones=[dict(ZONE, rrsets=[dict(ZONE["rrsets"][0], desired=[dict(REC, port=70000)])])]))
plancase("zones-not-array", with_(zones={"example.com.": {}}))
plancase("zone-missing-fields", with_(zones=[{"zone": "example.com."}]))
plancase("unknown-top-level-field", with_(extra_field=True))
plancase("non-utf8", b'{"schema": 1, "kmsdns_version": "\xff\xfe"}')
plancase("utf8-bom", "\ufeff" + json.dumps(GOOD_SHAPE))
plancase("huge-number", with_(schema=10**40))
plancase("deeply-nested", "[" * 5000 + "]" * 5000)
plancase("directory", None, extra={"plan.json/.keep": ""})
plancase("missing-file", None)
plancase("render-nsupdate-not-json", "nope", args=("render", "nsupdate", "--plan", "plan.json"))
plancase("render-nsupdate-edited", with_(zones=[ZONE]), args=("render", "nsupdate", "--plan", "plan.json"))
plancase("render-nsupdate-directory", None, args=("render", "nsupdate", "--plan", "plan.json"), extra={"plan.json/.keep": ""})
plancase("apply-without-yes", GOOD_SHAPE, args=("apply", "plan.json"))
plancase("two-plan-files", GOOD_SHAPE, args=("apply", "--yes", "plan.json", "plan.json"))

# ---- CLI flags ---------------------------------------------------------------------------------
def clicase(name, args, exit=3, toml=BASE):
    case("cli", name, {"kmsdns.toml": toml, "kms-update.key": KEYFILE}, args, exit)


clicase("no-subcommand", [])
clicase("unknown-subcommand", ["deploy"])
clicase("unknown-flag", ["validate", "--frobnicate"])
clicase("unknown-short-flag", ["plan", "-Z"])
clicase("json-and-format-text", ["plan", "--json", "--format", "text"])
clicase("format-unknown", ["plan", "--format", "yaml"])
clicase("format-empty", ["plan", "--format", ""])
clicase("verify-format-unknown", ["verify", "--format", "xml", "--resolver", "@SERVER@"])
clicase("resolver-garbage", ["plan", "--resolver", "not-an-ip"])
clicase("resolver-hostname", ["plan", "--resolver", "dns.example.com"])
clicase("resolver-port-zero", ["plan", "--resolver", "127.0.0.1:0"])
clicase("resolver-port-huge", ["plan", "--resolver", "127.0.0.1:70000"])
clicase("resolver-empty", ["plan", "--resolver", ""])
clicase("resolver-ipv6-unclosed-bracket", ["verify", "--resolver", "[::1:53"])
clicase("server-port-zero", ["plan", "--server-port", "0"])
clicase("server-port-negative", ["plan", "--server-port=-1"])
clicase("server-port-65536", ["apply", "--yes", "--server-port", "65536"])
clicase("server-port-letters", ["verify", "--server-port", "dns"])
clicase("apply-without-yes-no-tty", ["apply"])
clicase("validate-with-resolver", ["validate", "--resolver", "@SERVER@"])
clicase("detailed-exitcode-on-apply", ["apply", "--yes", "--detailed-exitcode"])
clicase("wait-timeout-garbage", ["apply", "--yes", "--wait", "--wait-timeout", "forever"])
clicase("render-unknown-format", ["render", "yaml"])
clicase("render-no-format", ["render"])
clicase("render-legacy-on-bind", ["render", "bind", "--legacy"])
clicase("render-disable-publishing-on-table", ["render", "table", "--disable-publishing"])
clicase("render-include-secret-on-knot", ["render", "knot", "--include-secret"])
clicase("render-allow-any-on-pdns", ["render", "pdns", "--allow-any"])
clicase("render-plan-on-bind", ["render", "bind", "--plan", "plan.json"])
clicase("render-zone-unknown", ["render", "bind", "--zone", "nope.example"])
clicase("render-zone-bad-name", ["render", "bind", "--zone", "bad..name"])
clicase("keygen-no-name", ["keygen"])
clicase("keygen-empty-name", ["keygen", ""])
clicase("keygen-label-64", ["keygen", L64])
clicase("keygen-name-with-space", ["keygen", "kms update"])
clicase("keygen-name-with-quote", ["keygen", 'kms"update'])
clicase("keygen-name-256-octets", ["keygen", ".".join([L63] * 4)])
clicase("keygen-algorithm-md5", ["keygen", "kms-update", "-a", "hmac-md5"])
clicase("keygen-algorithm-unknown", ["keygen", "kms-update", "-a", "sha256"])
clicase("keygen-out-exists", ["keygen", "kms-update", "-o", "kms-update.key"])
clicase("keygen-out-is-directory", ["keygen", "kms-update", "-o", "."])
clicase("keygen-out-missing-dir", ["keygen", "kms-update", "-o", "no/such/dir/k.key"])
clicase("config-missing", ["-c", "nope.toml", "validate"])
clicase("config-is-directory", ["-c", ".", "validate"])
clicase("color-bogus", ["--color", "sometimes", "validate"])
clicase("verbose-and-quiet", ["-v", "-q", "validate"])
clicase("completions-unknown-shell", ["completions", "tcsh"])
clicase("man-unknown-command", ["man", "deploy"])
clicase("verify-domain-bad", ["verify", "--domain", "a..b", "--resolver", "@SERVER@"])
clicase("verify-invalid-config", ["verify", "--resolver", "@SERVER@", "--no-connect"], toml=BASE + "port = \n")
clicase("import-no-source", ["import"])
clicase("import-bad-name", ["import", "bad..name", "--server", "@SERVER@"])
clicase("import-from-missing-file", ["import", "--from-file", "nope.txt", "--server", "@SERVER@"])
clicase("import-key-missing", ["import", "example.com", "--server", "@SERVER@", "--key", "nope.key"])
clicase("import-out-exists", ["import", "example.com", "--server", "@SERVER@", "-o", "kmsdns.toml"])
clicase("import-server-port-zero", ["import", "example.com", "--server", "127.0.0.1:0"])

# ---- write --------------------------------------------------------------------------------------
for kind in KINDS:
    shutil.rmtree(os.path.join(ROOT, kind), ignore_errors=True)


def toml_str(s):
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


for (kind, name), c in sorted(cases.items()):
    d = os.path.join(ROOT, kind, name)
    os.makedirs(d)
    for rel, content in c["files"].items():
        # The repository ignores *.key (no secret is ever committed): corpus key files are
        # stored as *.key.in and the runner names them back. Their secrets are fixed fake test
        # strings, input for the parser only, never the key of any server.
        if rel.endswith(".key"):
            rel += ".in"
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode())
    with open(os.path.join(d, "case.toml"), "w") as f:
        f.write("args = [" + ", ".join(toml_str(a) for a in c["args"]) + "]\n")
        f.write(f"exit = {c['exit']}\n")
        f.write("secrets = [" + ", ".join(toml_str(s) for s in c["secrets"]) + "]\n")
        if c["bug"]:
            f.write("bug = " + toml_str(c["bug"]) + "\n")
print(len(cases), "cases:", {k: sum(1 for (kk, _) in cases if kk == k) for k in KINDS})
