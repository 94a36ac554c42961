//! Bad configuration: domains (zone, TTLs, hosts, suffix), how spans are shown, and the
//! config file itself (missing, several errors at once).

use crate::harness::cli::kmsdns;

use super::*;

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
