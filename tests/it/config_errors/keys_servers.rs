//! Bad configuration: `[keys]` (secret source, algorithm) and `[servers]` (address,
//! transport, timeouts, retries).

use super::*;

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

// ---- address lists (failover) --------------------------------------------------------------

#[test]
fn address_lists_name_the_bad_element() {
    let toml = format!(
        "{HOST}{DOMAIN}[servers.p]\naddress = [\"192.0.2.53\", \"192.0.2.54:0\", \"udp://192.0.2.55:53\"]\n"
    );
    bad(&toml)
        .at("\"192.0.2.54:0\"", "servers.p.address[1]")
        .says("port 0 in `192.0.2.54:0`")
        .at("\"udp://192.0.2.55:53\"", "servers.p.address[2]")
        .says("is a URL")
        .says("hint: write host:port, an IPv4 address, [IPv6]:port or a name")
        .count(2);
}

#[test]
fn empty_address_list() {
    let toml = format!("{HOST}{DOMAIN}[servers.p]\naddress = []\n");
    bad(&toml)
        .at("[]", "servers.p.address")
        .says("the address list is empty")
        .says("give at least one address")
        .count(1);
}

#[test]
fn duplicate_addresses_in_a_list() {
    // The same address written twice, once with the default port spelled out.
    let toml = format!(
        "{HOST}{DOMAIN}[servers.p]\naddress = [\"192.0.2.53\", \"ns1.example.com\", \"192.0.2.53:53\"]\n"
    );
    bad(&toml)
        .at("\"192.0.2.53:53\"", "servers.p.address[2]")
        .says("`192.0.2.53:53` is in the list twice (also servers.p.address[0], both mean 192.0.2.53:53)")
        .says("list each address once")
        .count(1);
}

#[test]
fn an_address_list_that_is_not_strings() {
    let toml = format!("{HOST}{DOMAIN}[servers.p]\naddress = [\"192.0.2.53\", 53]\n");
    bad(&toml).says("servers.p.address").count(1);
}

#[test]
fn an_address_list_is_tried_in_order() {
    let out = good(&format!(
        "[servers.p]\naddress = [\"192.0.2.53\", \"[2001:db8::53]:5353\", \"ns2.example.com\"]\n{HOST}{DOMAIN}"
    ));
    assert!(
        out.contains("p 192.0.2.53:53, [2001:db8::53]:5353, ns2.example.com:53 (UDP"),
        "{out}"
    );
}

#[test]
fn max_inflight_is_bounded() {
    for value in ["0", "257", "-3"] {
        let toml = format!(
            "[servers.p]\nmax_inflight = {value}\naddress = \"192.0.2.53\"\n{HOST}{DOMAIN}"
        );
        bad(&toml)
            .at(value, "servers.p.max_inflight")
            .says(&format!("max_inflight {value} is out of range"))
            .says("from 1 to 256")
            .count(1);
    }
    good(&format!(
        "[servers.a]\naddress = \"192.0.2.53\"\nmax_inflight = 1\n[servers.b]\naddress = \"192.0.2.54\"\nmax_inflight = 256\n{HOST}{DOMAIN}"
    ));
}
