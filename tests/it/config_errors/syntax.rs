//! Bad configuration: TOML syntax errors and unknown keys (with "did you mean").

use super::*;

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
fn misspelt_address_is_only_the_unknown_key() {
    let toml = format!("{HOST}{DOMAIN}[servers.p]\nadress = \"192.0.2.53\"\n");
    bad(&toml)
        .at("adress", "servers.p.adress")
        .says("did you mean `address`?")
        .never("missing required key")
        .count(1);
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
