//! `kmsdns validate` against bad configuration files: every error class of issue 2 must exit 3
//! with nothing on stdout, and name the file, `LINE:COL`, the key path and a hint on stderr.

use std::path::{Path, PathBuf};

use crate::harness::cli::{kmsdns, kmsdns_std};

/// One `[[hosts]]` and one `[[domains]]` entry: the smallest valid file, to build cases on.
const HOST: &str = "[[hosts]]\nname = \"kms1.example.com\"\n";
const DOMAIN: &str = "[[domains]]\nname = \"example.com\"\n";

/// Writes `toml` to a temp file and runs `kmsdns validate -c FILE` on it.
fn run(toml: &str) -> (tempfile::TempDir, PathBuf, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kmsdns.toml");
    std::fs::write(&file, toml).unwrap();
    let out = kmsdns()
        .args(["validate", "-c"])
        .arg(&file)
        .output()
        .unwrap();
    (dir, file, out)
}

/// The outcome of validating a bad file; the assertions read like the error they expect.
struct Bad {
    toml: String,
    file: PathBuf,
    stderr: String,
    _dir: tempfile::TempDir,
}

/// Validates `toml`, asserting exit code 3 and an empty stdout.
fn bad(toml: &str) -> Bad {
    let (dir, file, out) = run(toml);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "want exit 3 for:\n{toml}\nstderr:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "stdout must be empty on error, got:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    Bad {
        toml: toml.to_string(),
        file,
        stderr,
        _dir: dir,
    }
}

/// 1-based line and column (in characters) of the first occurrence of `needle` in `text`.
fn position(text: &str, needle: &str) -> (usize, usize) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in the case's TOML"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    (line, col)
}

impl Bad {
    /// An error at the first occurrence of `needle`, for key path `key`.
    #[track_caller]
    fn at(&self, needle: &str, key: &str) -> &Self {
        let (line, col) = position(&self.toml, needle);
        let want = format!("{}:{line}:{col}: error: {key}: ", self.file.display());
        assert!(
            self.stderr.contains(&want),
            "want `{want}` in stderr:\n{}",
            self.stderr
        );
        self
    }

    /// An error somewhere on `line` (for errors at the end of a line or file).
    #[track_caller]
    fn on_line(&self, line: usize) -> &Self {
        let want = format!("{}:{line}:", self.file.display());
        assert!(
            self.stderr.contains(&want),
            "want `{want}` in stderr:\n{}",
            self.stderr
        );
        self
    }

    /// `fragment` appears in stderr (a message or hint).
    #[track_caller]
    fn says(&self, fragment: &str) -> &Self {
        assert!(
            self.stderr.contains(fragment),
            "want `{fragment}` in stderr:\n{}",
            self.stderr
        );
        self
    }

    /// `fragment` does not appear in stderr.
    #[track_caller]
    fn never(&self, fragment: &str) -> &Self {
        assert!(
            !self.stderr.contains(fragment),
            "did not want `{fragment}` in stderr:\n{}",
            self.stderr
        );
        self
    }

    /// The closing count line says exactly `n` errors.
    #[track_caller]
    fn count(&self, n: usize) -> &Self {
        let s = if n == 1 { "" } else { "s" };
        let want = format!(
            "{}: {n} error{s} in the configuration; nothing was sent to DNS",
            self.file.display()
        );
        assert!(
            self.stderr.contains(&want),
            "want `{want}` in stderr:\n{}",
            self.stderr
        );
        self
    }
}

/// Validates a good file: exit 0, no errors on stderr (warnings about key files or secret
/// variables not present on this machine are fine); returns stdout.
fn good_file(file: &Path) -> String {
    let out = kmsdns()
        .args(["validate", "-c"])
        .arg(file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
    assert!(
        stderr.lines().all(|l| l.contains("WARN")),
        "stderr:\n{stderr}"
    );
    String::from_utf8(out.stdout).unwrap()
}

fn good(toml: &str) -> String {
    let (_dir, file, _) = run("");
    std::fs::write(&file, toml).unwrap();
    good_file(&file)
}

// ---- TOML syntax -------------------------------------------------------------------------

#[test]
fn syntax_unterminated_string() {
    bad("[[hosts]]\nname = \"kms1.example.com\n")
        .on_line(2)
        .says("TOML syntax")
        .says("hint: fix the TOML syntax")
        .count(1);
}

#[test]
fn syntax_duplicate_key() {
    let toml = format!("{HOST}name = \"kms2.example.com\"\n{DOMAIN}");
    bad(&toml)
        .at("name = \"kms2", "name")
        .says("duplicate key `name`")
        .says("keep one `name = …` per table");
}

// ---- unknown keys, with "did you mean" -----------------------------------------------------

#[test]
fn unknown_top_level_key() {
    let toml = format!("[[host]]\nname = \"kms1.example.com\"\n{DOMAIN}");
    bad(&toml)
        .at("host]]", "host")
        .says("unknown key `host`")
        .says("did you mean `hosts`?");
}

#[test]
fn unknown_key_in_defaults() {
    let toml = format!("[defaults]\ntll = 60\n{HOST}{DOMAIN}");
    bad(&toml)
        .at("tll", "defaults.tll")
        .says("did you mean `ttl`?")
        .count(1);
}

#[test]
fn unknown_key_in_keys_table() {
    let toml = format!("{HOST}{DOMAIN}[keys.k]\nfile = \"k.key\"\nalgoritm = \"hmac-sha256\"\n");
    bad(&toml)
        .at("algoritm", "keys.k.algoritm")
        .says("did you mean `algorithm`?")
        .count(1);
}

#[test]
fn unknown_key_in_servers_table() {
    let toml = format!("{HOST}{DOMAIN}[servers.p]\naddress = \"192.0.2.53\"\ntimout = \"3s\"\n");
    bad(&toml)
        .at("timout", "servers.p.timout")
        .says("did you mean `timeout`?")
        .count(1);
}

#[test]
fn misspelt_address_is_unknown_and_address_missing() {
    let toml = format!("{HOST}{DOMAIN}[servers.p]\nadress = \"192.0.2.53\"\n");
    bad(&toml)
        .at("adress", "servers.p.adress")
        .says("did you mean `address`?")
        .at("[servers.p]", "servers.p.address")
        .says("missing required key `address`")
        .count(2);
}

#[test]
fn unknown_key_in_hosts_entry() {
    let toml = format!("{HOST}priorty = 10\n{DOMAIN}");
    bad(&toml)
        .at("priorty", "hosts[0].priorty")
        .says("did you mean `priority`?")
        .count(1);
}

#[test]
fn unknown_key_in_domains_entry() {
    let toml = format!("{HOST}{DOMAIN}zones = \"example.com\"\n");
    bad(&toml)
        .at("zones", "domains[0].zones")
        .says("did you mean `zone`?")
        .count(1);
}

#[test]
fn unknown_key_in_domain_host_table() {
    let toml = format!("{HOST}{DOMAIN}hosts = [{{ name = \"kms1.example.com\", wieght = 5 }}]\n");
    bad(&toml)
        .at("wieght", "domains[0].hosts[0].wieght")
        .says("did you mean `weight`?")
        .count(1);
}

#[test]
fn unknown_key_without_close_match_lists_valid_keys() {
    let toml = format!("{HOST}colour = \"blue\"\n{DOMAIN}");
    bad(&toml)
        .at("colour", "hosts[0].colour")
        .says("valid keys here: name, port, priority, weight, ttl")
        .never("did you mean");
}

#[test]
fn several_unknown_keys_reported_at_once() {
    let toml = format!("[defaults]\nprt = 1688\n{HOST}wieght = 1\n{DOMAIN}prune_ = false\n");
    bad(&toml)
        .at("prt", "defaults.prt")
        .at("wieght", "hosts[0].wieght")
        .at("prune_", "domains[0].prune_")
        .count(3);
}

#[test]
fn top_level_key_after_a_table_says_move_it_up() {
    let toml = format!("{HOST}{DOMAIN}client_suffixes = [\"example.com\"]\n");
    bad(&toml)
        .at("client_suffixes", "domains[0].client_suffixes")
        .says("`client_suffixes` is a top-level key")
        .says("move it above the first [table]")
        .count(1);
}

// ---- names ---------------------------------------------------------------------------------

#[test]
fn label_longer_than_63_octets() {
    let label = "a".repeat(64);
    let toml = format!("[[hosts]]\nname = \"{label}.example.com\"\n{DOMAIN}");
    bad(&toml)
        .at(&format!("\"{label}"), "hosts[0].name")
        .says("is 64 octets long; RFC 1035 allows at most 63")
        .count(1);
}

#[test]
fn name_longer_than_255_octets() {
    let long = vec!["a".repeat(60); 5].join(".");
    let toml = format!("{HOST}[[domains]]\nname = \"{long}.example\"\n");
    bad(&toml)
        .at(&format!("\"{long}"), "domains[0].name")
        .says("RFC 1035 allows at most 255")
        .count(1);
}

#[test]
fn domain_too_long_for_the_kms_owner_name() {
    // 250 octets on the wire: fine as a name, but `_vlmcs._tcp.` pushes it over 255.
    let long = format!("{}.example", vec!["a".repeat(60); 4].join("."));
    let toml = format!("{HOST}[[domains]]\nname = \"{long}\"\n");
    bad(&toml)
        .at(&format!("\"{long}"), "domains[0].name")
        .says("would be longer than 255 octets");
}

#[test]
fn host_name_with_underscore() {
    let toml = format!("[[hosts]]\nname = \"kms_1.example.com\"\n{DOMAIN}");
    bad(&toml)
        .at("\"kms_1", "hosts[0].name")
        .says("underscores and spaces are not valid in host names")
        .count(1);
}

#[test]
fn host_name_with_space() {
    let toml = format!("[[hosts]]\nname = \"kms 1.example.com\"\n{DOMAIN}");
    bad(&toml)
        .at("\"kms 1", "hosts[0].name")
        .says("label `kms 1` has a character other than letters, digits and hyphen")
        .count(1);
}

#[test]
fn host_name_with_leading_hyphen() {
    let toml = format!("[[hosts]]\nname = \"-kms.example.com\"\n{DOMAIN}");
    bad(&toml)
        .at("\"-kms", "hosts[0].name")
        .says("starts or ends with a hyphen");
}

#[test]
fn empty_label_in_domain() {
    let toml = format!("{HOST}[[domains]]\nname = \"corp..example.com\"\n");
    bad(&toml)
        .at("\"corp..", "domains[0].name")
        .says("empty label");
}

#[test]
fn invalid_idn_rejected() {
    // A zero-width joiner is not allowed after a plain letter (IDNA2008 CONTEXTJ).
    let toml = format!("{HOST}[[domains]]\nname = \"a\\u200db.example\"\n");
    bad(&toml)
        .at("\"a\\u200d", "domains[0].name")
        .says("cannot be converted to an A-label (IDNA)")
        .says("hint: check the spelling, or write the A-label");
}

#[test]
fn invalid_a_label_rejected() {
    let toml = format!("{HOST}[[domains]]\nname = \"xn--a.example\"\n");
    bad(&toml)
        .at("\"xn--a", "domains[0].name")
        .says("cannot be converted to an A-label (IDNA)");
}

#[test]
fn ipv4_address_as_host_name() {
    let toml = format!("[[hosts]]\nname = \"192.0.2.10\"\n{DOMAIN}");
    bad(&toml)
        .at("\"192.0.2.10", "hosts[0].name")
        .says("is an IP address, but a host name is needed here")
        .says("SRV targets must be host names")
        .count(1);
}

#[test]
fn ipv6_address_as_host_name() {
    let toml = format!("[[hosts]]\nname = \"2001:db8::10\"\n{DOMAIN}");
    bad(&toml)
        .at("\"2001:db8", "hosts[0].name")
        .says("is an IP address")
        .count(1);
}

#[test]
fn single_label_host_name() {
    let toml = format!("[[hosts]]\nname = \"kms1\"\n{DOMAIN}");
    bad(&toml)
        .at("\"kms1\"", "hosts[0].name")
        .says("is a single label")
        .says("e.g. kms1.corp.example.com")
        .count(1);
}

#[test]
fn ip_address_in_a_domain_host_list() {
    let toml = format!("{HOST}{DOMAIN}hosts = [\"192.0.2.10\"]\n");
    bad(&toml)
        .at("\"192.0.2.10", "domains[0].hosts[0]")
        .says("is an IP address");
}

// ---- numbers -------------------------------------------------------------------------------

/// Each out-of-range value, in [[hosts]], [defaults] and a domain's host table.
#[test]
fn numbers_out_of_range() {
    let cases = [
        ("port", "0", "from 1 to 65535"),
        ("port", "65536", "from 1 to 65535"),
        ("priority", "-1", "from 0 to 65535"),
        ("priority", "65536", "from 0 to 65535"),
        ("weight", "-1", "from 0 to 65535"),
        ("weight", "65536", "from 0 to 65535"),
        ("ttl", "-1", "from 0 to 2147483647"),
        ("ttl", "2147483648", "from 0 to 2147483647"),
    ];
    for (key, value, range) in cases {
        let line = format!("{key} = {value}");
        bad(&format!("{HOST}{line}\n{DOMAIN}"))
            .at(&format!("{value}\n"), &format!("hosts[0].{key}"))
            .says(&format!("{value} is out of range"))
            .says(range)
            .count(1);
        bad(&format!("[defaults]\n{line}\n{HOST}{DOMAIN}"))
            .at(&format!("{value}\n"), &format!("defaults.{key}"))
            .says(range)
            .count(1);
        let inline = format!("hosts = [{{ name = \"kms1.example.com\", {line} }}]");
        bad(&format!("{HOST}{DOMAIN}{inline}\n"))
            .at(
                &format!("{line} }}")[key.len() + 3..],
                &format!("domains[0].hosts[0].{key}"),
            )
            .says(range)
            .count(1);
    }
}

// ---- wrong types and missing keys ----------------------------------------------------------

#[test]
fn port_as_string_points_at_the_value() {
    let toml = format!("{HOST}port = \"1688\"\n{DOMAIN}");
    bad(&toml)
        .at("\"1688\"", "hosts[0].port")
        .says("expected an integer")
        .says("write numbers without quotes")
        .count(1);
}

#[test]
fn domain_hosts_as_string() {
    let toml = format!("{HOST}{DOMAIN}hosts = \"kms1\"\n");
    bad(&toml)
        .at("\"kms1\"", "domains[0].hosts")
        .says("expected an array")
        .says("hosts = [")
        .count(1);
}

#[test]
fn wrong_type_in_domain_host_table() {
    let toml = format!("{HOST}{DOMAIN}hosts = [{{ name = \"kms1.example.com\", ttl = \"1h\" }}]\n");
    bad(&toml)
        .at("\"1h\"", "domains[0].hosts[0].ttl")
        .says("expected an integer")
        .count(1);
}

#[test]
fn prune_as_string() {
    let toml = format!("{HOST}{DOMAIN}prune = \"no\"\n");
    bad(&toml)
        .at("\"no\"", "domains[0].prune")
        .says("true or false")
        .count(1);
}

#[test]
fn defaults_not_a_table() {
    let toml = format!("defaults = 5\n{HOST}{DOMAIN}");
    bad(&toml).at("5", "defaults").says("must be a table");
}

#[test]
fn host_without_name() {
    let toml = format!("[[hosts]]\nport = 1688\n{DOMAIN}");
    bad(&toml)
        .at("[[hosts]]", "hosts[0].name")
        .says("missing required key `name`")
        // The invalid entry is not reported again as "no [[hosts]] entries".
        .never("gets no KMS hosts")
        .count(1);
}

#[test]
fn domain_without_name() {
    let toml = format!("{HOST}[[domains]]\nzone = \"example.com\"\n");
    bad(&toml)
        .at("[[domains]]", "domains[0].name")
        .says("missing required key `name`")
        .count(1);
}

// ---- duplicates and references -------------------------------------------------------------

#[test]
fn duplicate_hosts_differing_in_case() {
    let toml = format!("{HOST}[[hosts]]\nname = \"KMS1.Example.COM\"\n{DOMAIN}");
    bad(&toml)
        .at("\"KMS1", "hosts[1].name")
        .says("duplicate host `kms1.example.com`")
        .count(1);
}

#[test]
fn duplicate_domains_with_and_without_trailing_dot() {
    let toml = format!("{HOST}{DOMAIN}[[domains]]\nname = \"Example.com.\"\n");
    bad(&toml)
        .at("\"Example.com.\"", "domains[1].name")
        .says("duplicate domain `example.com`")
        .count(1);
}

#[test]
fn domain_lists_unknown_host() {
    let toml = format!("{HOST}{DOMAIN}hosts = [\"kms2.example.com\"]\n");
    bad(&toml)
        .at("\"kms2", "domains[0].hosts[0]")
        .says("unknown host `kms2.example.com`")
        .says("did you mean `kms1.example.com`?")
        .count(1);
}

#[test]
fn domain_lists_a_host_twice() {
    let toml = format!("{HOST}{DOMAIN}hosts = [\"kms1.example.com\", \"KMS1.example.com.\"]\n");
    bad(&toml)
        .at("\"KMS1", "domains[0].hosts[1]")
        .says("listed twice for this domain")
        .count(1);
}

#[test]
fn domain_listing_an_invalid_host_is_reported_once() {
    let toml = "[[hosts]]\nname = \"kms1.example.com\"\nport = \"x\"\n\
                [[domains]]\nname = \"example.com\"\nhosts = [\"kms1.example.com\"]\n";
    bad(toml)
        .at("\"x\"", "hosts[0].port")
        .never("unknown host")
        .count(1);
}

#[test]
fn server_references_unknown_key() {
    let toml = format!(
        "{HOST}{DOMAIN}[keys.kms-update]\nfile = \"k.key\"\n\
         [servers.p]\naddress = \"192.0.2.53\"\nkey = \"kms-updat\"\n"
    );
    bad(&toml)
        .at("\"kms-updat\"", "servers.p.key")
        .says("unknown key `kms-updat`")
        .says("did you mean `kms-update`?")
        .count(1);
}

#[test]
fn defaults_key_unknown() {
    let toml = format!("[defaults]\nkey = \"kms-update\"\n{HOST}{DOMAIN}");
    bad(&toml)
        .at("\"kms-update\"", "defaults.key")
        .says("define it as [keys.kms-update]")
        .count(1);
}

#[test]
fn domain_server_unknown() {
    let toml =
        format!("{HOST}{DOMAIN}server = \"primary\"\n[servers.primry]\naddress = \"192.0.2.53\"\n");
    bad(&toml)
        .at("\"primary\"", "domains[0].server")
        .says("unknown server `primary`")
        .says("did you mean `primry`?")
        .count(1);
}

#[test]
fn reference_to_an_invalid_key_is_not_reported_again() {
    let toml = format!(
        "{HOST}{DOMAIN}[keys.k]\nalgorithm = \"hmac-sha256\"\n\
         [servers.p]\naddress = \"192.0.2.53\"\nkey = \"k\"\n"
    );
    bad(&toml)
        .at("[keys.k]", "keys.k")
        .never("unknown key `k`")
        .count(1);
}

// ---- keys ----------------------------------------------------------------------------------

#[test]
fn key_with_neither_file_nor_secret_env() {
    let toml = format!("{HOST}{DOMAIN}[keys.k]\nalgorithm = \"hmac-sha256\"\n");
    bad(&toml)
        .at("[keys.k]", "keys.k")
        .says("neither `file` nor `secret_env`")
        .says("kmsdns keygen")
        .count(1);
}

#[test]
fn key_with_both_file_and_secret_env() {
    let toml = format!("{HOST}{DOMAIN}[keys.k]\nfile = \"k.key\"\nsecret_env = \"K\"\n");
    bad(&toml)
        .at("\"k.key\"", "keys.k")
        .says("both `file` and `secret_env` are set")
        .says("keep one")
        .count(1);
}

#[test]
fn secret_env_not_a_variable_name() {
    let toml = format!("{HOST}{DOMAIN}[keys.k]\nsecret_env = \"c2VjcmV0==\"\n");
    bad(&toml)
        .at("\"c2VjcmV0", "keys.k.secret_env")
        .says("is not an environment variable name")
        .says("the secret itself never goes in this file");
}

#[test]
fn unknown_tsig_algorithm_lists_the_valid_ones() {
    let toml = format!("{HOST}{DOMAIN}[keys.k]\nfile = \"k.key\"\nalgorithm = \"hmac-sha257\"\n");
    bad(&toml)
        .at("\"hmac-sha257\"", "keys.k.algorithm")
        .says("unknown TSIG algorithm `hmac-sha257`")
        .says("valid algorithms: hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha1 (legacy)")
        .count(1);
}

#[test]
fn hmac_md5_rejected() {
    let toml = format!(
        "{HOST}{DOMAIN}[keys.k]\nfile = \"k.key\"\nalgorithm = \"HMAC-MD5.SIG-ALG.REG.INT\"\n"
    );
    bad(&toml)
        .at("\"HMAC-MD5", "keys.k.algorithm")
        .says("hmac-md5 is not supported")
        .says("valid algorithms: hmac-sha256")
        .count(1);
}

// ---- servers -------------------------------------------------------------------------------

#[test]
fn bad_server_addresses() {
    let cases = [
        ("192.0.2.53:53:x", "is not a port number"),
        ("[::1", "is not an address"),
        ("192.0.2.53:0", "port 0"),
        ("ns1.example.com:0", "port 0"),
        ("ns1.example.com:65536", "is not a port number"),
        ("[2001:db8::zz]:53", "not"),
    ];
    for (address, message) in cases {
        let toml = format!("{HOST}{DOMAIN}[servers.p]\naddress = \"{address}\"\n");
        bad(&toml)
            .at(&format!("\"{address}\""), "servers.p.address")
            .says(message)
            .says("hint: write host:port, an IPv4 address, [IPv6]:port or a name")
            .count(1);
    }
}

#[test]
fn bad_transport() {
    let toml =
        format!("{HOST}{DOMAIN}[servers.p]\naddress = \"192.0.2.53\"\ntransport = \"quic\"\n");
    bad(&toml)
        .at("\"quic\"", "servers.p.transport")
        .says("unknown transport `quic`")
        .says("\"udp\"")
        .count(1);
}

#[test]
fn bad_timeouts() {
    for (timeout, message) in [
        ("fast", "cannot read timeout"),
        ("10m", "out of range"),
        ("61s", "out of range"),
        ("3", "cannot read"),
    ] {
        let toml = format!(
            "{HOST}{DOMAIN}[servers.p]\naddress = \"192.0.2.53\"\ntimeout = \"{timeout}\"\n"
        );
        bad(&toml)
            .at(&format!("\"{timeout}\""), "servers.p.timeout")
            .says(message)
            .says("\"3s\"")
            .count(1);
    }
}

#[test]
fn retries_bound_the_tries() {
    for (table, key) in [
        (
            "[servers.p]\naddress = \"192.0.2.53\"\n",
            "servers.p.retries",
        ),
        ("[defaults]\n", "defaults.retries"),
    ] {
        for value in ["11", "-1"] {
            let toml = format!("{table}retries = {value}\n{HOST}{DOMAIN}");
            bad(&toml)
                .at(value, key)
                .says(&format!("retries {value} is out of range"))
                .says("from 0 to 10")
                .count(1);
        }
    }
    let out = good(&format!(
        "[defaults]\nretries = 0\n[servers.a]\naddress = \"192.0.2.53\"\n[servers.b]\naddress = \"192.0.2.54\"\nretries = 5\ntimeout = \"60s\"\n{HOST}{DOMAIN}"
    ));
    assert!(
        out.contains("a 192.0.2.53:53 (UDP, timeout 3s, 1 try,"),
        "{out}"
    );
    assert!(
        out.contains("b 192.0.2.54:53 (UDP, timeout 1m, 6 tries,"),
        "{out}"
    );
}

#[test]
fn bad_address_transport_and_timeout_all_reported() {
    let toml = format!(
        "{HOST}{DOMAIN}[servers.p]\naddress = \"[::1\"\ntransport = \"quic\"\ntimeout = \"fast\"\n"
    );
    bad(&toml)
        .at("\"[::1\"", "servers.p.address")
        .at("\"quic\"", "servers.p.transport")
        .at("\"fast\"", "servers.p.timeout")
        .count(3);
}

// ---- domains -------------------------------------------------------------------------------

#[test]
fn zone_not_enclosing_the_domain() {
    let toml = format!("{HOST}{DOMAIN}zone = \"corp.example.com\"\n");
    bad(&toml)
        .at("\"corp.example.com\"", "domains[0].zone")
        .says("domain `example.com` is not inside zone `corp.example.com`")
        .count(1);
}

#[test]
fn differing_ttls_in_one_rrset() {
    let toml = format!(
        "{HOST}[[hosts]]\nname = \"kms2.example.com\"\nttl = 60\n{DOMAIN}hosts = [\"kms1.example.com\", \"kms2.example.com\"]\n"
    );
    bad(&toml)
        .at("[\"kms1", "domains[0].hosts")
        .says("different TTLs (3600 for kms1.example.com, 60 for kms2.example.com)")
        .says("RFC 2181")
        .count(1);
}

#[test]
fn span_over_several_lines_shows_every_line() {
    let toml = format!(
        "{HOST}[[hosts]]\nname = \"kms2.example.com\"\nttl = 60\n{DOMAIN}hosts = [\n  \"kms1.example.com\",\n  \"kms2.example.com\",\n]\n"
    );
    let bad = bad(&toml);
    bad.at("[\n", "domains[0].hosts")
        .says("different TTLs")
        .count(1);
    for line in ["  \"kms1.example.com\",", "  \"kms2.example.com\",", "| ]"] {
        bad.says(line);
    }
}

#[test]
fn column_counts_characters_and_the_caret_sits_under_the_value() {
    // A tab and non-ASCII text before the value: the column counts characters (a tab is one),
    // and the source line is shown with the tab expanded so that the caret lines up.
    let toml =
        format!("\tclient_suffixes\t= [\"Zürich.example\", \"corp_example.com\"]\n{HOST}{DOMAIN}");
    let shown = "    client_suffixes    = [\"Zürich.example\", \"corp_example.com\"]";
    let indent = shown[..shown.find("\"corp").unwrap()].chars().count();
    bad(&toml)
        .at("\"corp_example", "client_suffixes[1]")
        .never("\t")
        .says(&format!("1 | {shown}\n"))
        .says(&format!("  | {}{}\n", " ".repeat(indent), "^".repeat(18)))
        .count(1);
}

#[test]
fn no_domains_at_all() {
    bad(HOST)
        .on_line(1)
        .says("domains: the configuration lists no [[domains]]")
        .count(1);
}

#[test]
fn empty_file() {
    bad("").says("lists no [[domains]]").count(1);
}

#[test]
fn domain_without_hosts_when_none_are_defined() {
    bad(DOMAIN)
        .at("\"example.com\"", "domains[0].hosts")
        .says("there are no [[hosts]] entries")
        .says("hosts = []");
}

#[test]
fn client_suffix_invalid() {
    let toml = format!("client_suffixes = [\"corp_example.com\", 5]\n{HOST}{DOMAIN}");
    bad(&toml)
        .at("\"corp_example", "client_suffixes[0]")
        .at("5]", "client_suffixes[1]")
        .count(2);
}

// ---- the file itself -----------------------------------------------------------------------

#[test]
fn missing_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("absent.toml");
    let out = kmsdns()
        .args(["validate", "-c"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(3), "stderr:\n{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr.contains(&format!(
            "{}: error: cannot read the configuration file",
            file.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("-c FILE or KMSDNS_CONFIG"), "{stderr}");
}

#[test]
fn several_errors_in_one_file_all_reported() {
    let toml = "\
[defaults]
ttl = -5

[keys.k]
algorithm = \"hmac-md5\"

[[hosts]]
name = \"kms_1.example.com\"

[[hosts]]
name = \"kms2.example.com\"
port = 0

[[domains]]
name = \"example.com\"
hosts = [\"kms2.example.com\", \"kms3.example.com\"]
server = \"nowhere\"
";
    bad(toml)
        .at("-5", "defaults.ttl")
        .at("\"hmac-md5\"", "keys.k.algorithm")
        .at("[keys.k]", "keys.k")
        .at("\"kms_1", "hosts[0].name")
        .at("0\n", "hosts[1].port")
        .at("\"kms3", "domains[0].hosts[1]")
        .at("\"nowhere\"", "domains[0].server")
        .count(7);
}

// ---- valid files ---------------------------------------------------------------------------

#[test]
fn example_config_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let out = good_file(&example);
    for line in [
        "domains: 3 (5 SRV records desired)",
        "_vlmcs._tcp.corp.example.com. 3600 IN SRV 0 0 1688 kms1.corp.example.com.",
        "_vlmcs._tcp.corp.example.com. 3600 IN SRV 10 0 1688 kms2.corp.example.com.",
        "_vlmcs._tcp.branch.example.net. 3600 IN SRV 0 0 1688 kms2.corp.example.com.",
        "_vlmcs._tcp.branch.example.net. 3600 IN SRV 10 0 1688 kms1.corp.example.com.",
        "_vlmcs._tcp.lab.example.org. 3600 IN SRV 0 0 1688 kms1.corp.example.com.",
        "Configuration is valid.",
    ] {
        assert!(out.contains(line), "want `{line}` in:\n{out}");
    }
}

#[test]
fn config_from_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("from-env.toml");
    std::fs::write(&file, format!("{HOST}{DOMAIN}")).unwrap();
    let out = kmsdns()
        .env("KMSDNS_CONFIG", &file)
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("from-env.toml"), "{stdout}");
    assert!(stdout.contains("_vlmcs._tcp.example.com. 3600 IN SRV 0 0 1688 kms1.example.com."));
}

#[test]
fn trailing_dots_and_upper_case_normalised() {
    let out = good(
        "[[hosts]]\nname = \"KMS1.Example.COM.\"\n\
         [[domains]]\nname = \"Corp.Example.COM.\"\nzone = \"EXAMPLE.com.\"\nhosts = [\"kms1.example.com\"]\n",
    );
    assert!(out.contains("  kms1.example.com.  port 1688"), "{out}");
    assert!(
        out.contains("  corp.example.com.  zone: example.com."),
        "{out}"
    );
    assert!(
        out.contains("_vlmcs._tcp.corp.example.com. 3600 IN SRV 0 0 1688 kms1.example.com."),
        "{out}"
    );
}

#[test]
fn idn_domain_shown_as_a_label() {
    let out = good(&format!("{HOST}[[domains]]\nname = \"Bücher.example\"\n"));
    assert!(
        out.contains("xn--bcher-kva.example. (bücher.example)"),
        "{out}"
    );
    assert!(
        out.contains("_vlmcs._tcp.xn--bcher-kva.example. 3600 IN SRV"),
        "{out}"
    );
}

#[test]
fn per_domain_host_overrides_in_summary() {
    let out = good(
        "[defaults]\nttl = 600\n\
         [[hosts]]\nname = \"kms1.example.com\"\n[[hosts]]\nname = \"kms2.example.com\"\nport = 1700\n\
         [[domains]]\nname = \"branch.example.com\"\n\
         hosts = [{ name = \"kms2.example.com\", priority = 0, weight = 5 }, { name = \"kms1.example.com\", priority = 10 }]\n",
    );
    assert!(
        out.contains("_vlmcs._tcp.branch.example.com. 600 IN SRV 0 5 1700 kms2.example.com."),
        "{out}"
    );
    assert!(
        out.contains("_vlmcs._tcp.branch.example.com. 600 IN SRV 10 0 1688 kms1.example.com."),
        "{out}"
    );
    assert!(out.contains("domains: 1 (2 SRV records desired)"), "{out}");
}

#[test]
fn empty_host_list_is_allowed() {
    let out = good(&format!("{HOST}{DOMAIN}hosts = []\n"));
    assert!(
        out.contains("(no records: the RRset is to be empty)"),
        "{out}"
    );
}

#[test]
fn validate_loads_key_files_and_reports_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.key");
    std::fs::write(
        &key,
        "key \"kms-update\" {\n\talgorithm hmac-sha256;\n\tsecret \"not base64!!\";\n};\n",
    )
    .unwrap();
    let cfg = dir.path().join("kmsdns.toml");
    std::fs::write(
        &cfg,
        "[keys.kms-update]\nfile = \"k.key\"\n[[hosts]]\nname = \"kms1.example.com\"\n[[domains]]\nname = \"example.com\"\n",
    )
    .unwrap();
    let out = kmsdns()
        .arg("-c")
        .arg(&cfg)
        .arg("validate")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("key `kms-update`") && err.contains("k.key:3"),
        "{err}"
    );
    assert!(
        !err.contains("not base64!!"),
        "the secret text is never echoed: {err}"
    );
    assert!(out.stdout.is_empty());
    // A good key file loads and is reported.
    let ok = kmsdns()
        .args(["keygen", "kms-update", "-o"])
        .arg(dir.path().join("good.key"))
        .output()
        .unwrap();
    assert!(ok.status.success());
    std::fs::write(
        &cfg,
        std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("k.key", "good.key"),
    )
    .unwrap();
    let out = kmsdns()
        .arg("-c")
        .arg(&cfg)
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("TSIG keys loaded: kms-update (hmac-sha256)")
    );
}

/// `kmsdns validate | head -1`: a closed pipe ends quietly with success, no panic.
#[test]
fn closed_stdout_pipe_is_not_a_crash() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    // The read end is closed before the program starts: its first write gets EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = kmsdns_std()
        .args(["validate", "-c", example])
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
