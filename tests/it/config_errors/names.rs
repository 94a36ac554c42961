//! Bad configuration: host and domain names (length, characters, IDN, IP addresses).

use super::*;

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

/// A misspelt required key is one mistake: the unknown key with its suggestion, not also a
/// "missing required key".
#[test]
fn misspelt_required_key_is_reported_once() {
    let toml = format!("[[hosts]]\nnmae = \"kms1.example.com\"\n{DOMAIN}");
    bad(&toml)
        .at("nmae", "hosts[0].nmae")
        .says("did you mean `name`?")
        .never("missing required key")
        .count(1);
}
