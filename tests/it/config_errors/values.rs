//! Bad configuration: numbers out of range, wrong types and missing keys.

use super::*;

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

#[test]
fn huge_numbers_a_bare_timeout_and_a_repeated_table_get_plain_words() {
    bad(&format!(
        "[[hosts]]\nname = \"kms1.example.com\"\nport = 99999999999999999999\n{DOMAIN}"
    ))
    .at("99999999999999999999", "hosts[0].port")
    .says("`port` is out of range")
    .says("use a port from 1 to 65535")
    .count(1);
    bad(&format!(
        "{HOST}{DOMAIN}[servers.p]\naddress = \"192.0.2.53\"\ntimeout = 3\n"
    ))
    .at("3\n", "servers.p.timeout")
    .says("must be a duration in quotes")
    .says("timeout = \"3s\"")
    .count(1);
    let twice = format!("[defaults]\nttl = 60\n[defaults]\nport = 1700\n{HOST}{DOMAIN}");
    let out = bad(&twice);
    assert!(
        out.stderr.contains("`[defaults]` appears twice")
            && out
                .stderr
                .contains("merge the two [defaults] tables into one"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("i128"), "{}", out.stderr);
}

#[test]
fn long_values_are_elided_and_the_report_is_capped() {
    let long = "a".repeat(100_000);
    let out = bad(&format!(
        "[[hosts]]\nname = \"{long}.example.com\"\n{DOMAIN}"
    ));
    assert!(out.stderr.len() < 4096, "{} bytes", out.stderr.len());
    assert!(
        out.stderr.contains("… (100015 characters)"),
        "{}",
        out.stderr
    );
    // 60 bad hosts: 50 shown, then how many more.
    let mut many = String::new();
    for i in 0..60 {
        many.push_str(&format!("[[hosts]]\nname = \"bad_{i}.example.com\"\n"));
    }
    let out = bad(&format!("{many}{DOMAIN}"));
    assert_eq!(
        out.stderr.matches(": error: ").count(),
        50,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("… and 10 more error(s) not shown"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("60 errors in the configuration"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_file_that_is_not_utf8_names_the_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kmsdns.toml");
    std::fs::write(
        &file,
        b"[[hosts]]\nname = \"kms1.example.com\" # caf\xe9\n[[domains]]\nname = \"example.com\"\n",
    )
    .unwrap();
    let out = crate::harness::cli::kmsdns()
        .args(["validate", "-c"])
        .arg(&file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("kmsdns.toml:2:32: error: the file is not UTF-8 text: byte 0xe9"),
        "{err}"
    );
    assert!(err.contains("save the file as UTF-8"), "{err}");
}

#[test]
fn an_address_with_two_ports_or_a_scheme_gets_a_hint_that_fits() {
    bad(&format!(
        "{HOST}{DOMAIN}[servers.p]\naddress = \"192.0.2.1:P:53\"\n"
    ))
    .at("\"192.0.2.1:P:53\"", "servers.p.address")
    .says("has more than one `:`")
    .says("\"192.0.2.1:53\"")
    .count(1);
    bad(&format!(
        "{HOST}{DOMAIN}[servers.p]\naddress = \"udp://192.0.2.1:53\"\n"
    ))
    .at("\"udp://192.0.2.1:53\"", "servers.p.address")
    .says("is a URL: write the address without `udp://`")
    .count(1);
}
