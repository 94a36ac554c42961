//! Bad configuration: duplicate entries and references to unknown or invalid hosts, keys
//! and servers.

use super::*;

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
        // k.key does not exist: reported in the same pass.
        .at("\"k.key\"", "keys.kms-update.file")
        .count(2);
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
