//! docs/config.schema.json, the JSON Schema of the TOML configuration for editors: the valid
//! files kmsdns accepts pass it, files with an unknown key or a value out of range fail it, and
//! its keys are exactly the validator's (`kmsdns::config::known_keys`), so the two cannot
//! drift apart.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

fn schema() -> Value {
    serde_json::from_str(include_str!("../../docs/config.schema.json")).expect("schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema()).expect("the schema itself is valid")
}

/// TOML text as the JSON value an editor's schema check sees.
fn to_json(toml_text: &str) -> Value {
    toml::from_str::<Value>(toml_text).expect("valid TOML")
}

fn errors(v: &jsonschema::Validator, toml_text: &str) -> Vec<String> {
    v.iter_errors(&to_json(toml_text))
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// kmsdns itself accepts `text` (no network, key files are not read).
fn kmsdns_accepts(text: &str) -> bool {
    kmsdns::config::from_str(Path::new("/nonexistent/kmsdns.toml"), text).is_ok()
}

const HOST: &str = "[[hosts]]\nname = \"kms1.example.com\"\n";
const DOMAIN: &str = "[[domains]]\nname = \"example.com\"\n";

/// Valid files used across the tests: the example, the multi-zone fixture, the lab config and
/// the shapes of tests/it/config_errors/valid.rs.
fn valid_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let lab = crate::plan_apply::one_host_config(
        Path::new("/tmp/kms-update.key"),
        "127.0.0.1:5353".parse().unwrap(),
        &["corp.example.com", "example.net"],
    );
    vec![
        ("config.example.toml".into(), read("config.example.toml")),
        ("tests/fixtures/multi.toml".into(), read("tests/fixtures/multi.toml")),
        ("lab".into(), lab),
        ("smallest".into(), format!("{HOST}{DOMAIN}")),
        (
            "trailing dots and upper case".into(),
            "[[hosts]]\nname = \"KMS1.Example.COM.\"\n[[domains]]\nname = \"Corp.Example.COM.\"\nzone = \"EXAMPLE.com.\"\nhosts = [\"kms1.example.com\"]\n".into(),
        ),
        ("idn".into(), format!("{HOST}[[domains]]\nname = \"Bücher.example\"\n")),
        (
            "per-domain overrides".into(),
            "[defaults]\nttl = 600\n[[hosts]]\nname = \"kms1.example.com\"\n[[hosts]]\nname = \"kms2.example.com\"\nport = 1700\n[[domains]]\nname = \"branch.example.com\"\nhosts = [{ name = \"kms2.example.com\", priority = 0, weight = 5 }, { name = \"kms1.example.com\", priority = 10 }]\n".into(),
        ),
        ("empty host list".into(), format!("{HOST}{DOMAIN}hosts = []\n")),
        (
            "address list".into(),
            format!(
                "[servers.s]\naddress = [\"192.0.2.53\", \"[2001:db8::53]:53\", \"ns2.example.com\"]\n{HOST}{DOMAIN}server = \"s\"\n"
            ),
        ),
        (
            "gss-tsig key".into(),
            format!(
                "[defaults]\nkey = \"ad\"\n[keys.ad]\ntype = \"gss-tsig\"\nprincipal = \"kmsdns@AD.EXAMPLE.COM\"\nkeytab = \"kmsdns.keytab\"\nservice = \"DNS/dc1.ad.example.com\"\nalgorithm = \"gss.microsoft.com\"\n{HOST}{DOMAIN}"
            ),
        ),
        (
            "every server key".into(),
            format!(
                "[defaults]\nretries = 0\n[keys.k]\nsecret_env = \"K_SECRET\"\nalgorithm = \"hmac-sha1\"\nname = \"k.example.com\"\n[servers.s]\naddress = \"[2001:db8::53]:53\"\nkey = \"k\"\ntransport = \"tcp\"\ntimeout = \"1s 500ms\"\nretries = 10\n{HOST}{DOMAIN}server = \"s\"\nprune = false\n"
            ),
        ),
    ]
}

#[test]
fn every_valid_config_passes_the_schema() {
    let v = validator();
    let files = valid_files();
    for (name, text) in &files {
        assert!(kmsdns_accepts(text), "{name}: kmsdns rejects it");
        let errors = errors(&v, text);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn invalid_configs_fail_the_schema_as_they_fail_kmsdns() {
    let v = validator();
    let base = format!("{HOST}{DOMAIN}");
    let server = |line: &str| format!("[servers.s]\naddress = \"192.0.2.53\"\n{line}\n{base}");
    let cases = [
        (
            "unknown key",
            format!("{HOST}[[domains]]\nname = \"example.com\"\nsever = \"s\"\n"),
        ),
        (
            "unknown top-level key",
            format!("colour = \"blue\"\n{base}"),
        ),
        (
            "unknown defaults key",
            format!("[defaults]\ntll = 60\n{base}"),
        ),
        (
            "port 0",
            format!("[[hosts]]\nname = \"kms1.example.com\"\nport = 0\n{DOMAIN}"),
        ),
        (
            "port too large",
            format!("[defaults]\nport = 65536\n{base}"),
        ),
        ("negative ttl", format!("[defaults]\nttl = -1\n{base}")),
        (
            "priority as a string",
            format!("[defaults]\npriority = \"0\"\n{base}"),
        ),
        ("bad transport", server("transport = \"quic\"")),
        (
            "empty address list",
            format!("[servers.s]\naddress = []\n{base}"),
        ),
        (
            "address twice in a list",
            format!("[servers.s]\naddress = [\"192.0.2.53\", \"192.0.2.53\"]\n{base}"),
        ),
        (
            "address list of numbers",
            format!("[servers.s]\naddress = [53]\n{base}"),
        ),
        ("retries too many", server("retries = 11")),
        (
            "server without address",
            format!("[servers.s]\nkey = \"k\"\n{base}"),
        ),
        (
            "bad algorithm",
            format!("[keys.k]\nsecret_env = \"K\"\nalgorithm = \"hmac-md5\"\n{base}"),
        ),
        (
            "key with file and secret_env",
            format!("[keys.k]\nfile = \"k.key\"\nsecret_env = \"K\"\n{base}"),
        ),
        (
            "key with neither",
            format!("[keys.k]\nalgorithm = \"hmac-sha256\"\n{base}"),
        ),
        (
            "host without name",
            format!("[[hosts]]\nport = 1688\n{DOMAIN}"),
        ),
        ("no domains", HOST.to_string()),
        (
            "domain host table with unknown key",
            format!(
                "{HOST}[[domains]]\nname = \"example.com\"\nhosts = [{{ name = \"kms1.example.com\", prio = 1 }}]\n"
            ),
        ),
    ];
    for (name, text) in &cases {
        assert!(!kmsdns_accepts(text), "{name}: kmsdns accepts it");
        assert!(
            !errors(&v, text).is_empty(),
            "{name}: the schema accepts it:\n{text}"
        );
    }
}

/// The property names of the object at `pointer` in the schema.
fn properties(schema: &Value, pointer: &str) -> BTreeSet<String> {
    schema
        .pointer(pointer)
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("no properties at {pointer}"))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn schema_keys_match_the_validators_key_lists() {
    let schema = schema();
    for (table, keys) in kmsdns::config::known_keys() {
        let pointer = match table {
            "" => "/properties",
            "defaults" => "/properties/defaults/properties",
            "keys.ID" => "/$defs/key/properties",
            "servers.ID" => "/$defs/server/properties",
            "hosts[]" => "/$defs/host/properties",
            "domains[]" => "/$defs/domain/properties",
            "domains[].hosts[]" => "/$defs/domain_host/oneOf/1/properties",
            other => panic!("new table {other}: add it to docs/config.schema.json and here"),
        };
        let want: BTreeSet<String> = keys.iter().map(|k| k.to_string()).collect();
        assert_eq!(
            properties(&schema, pointer),
            want,
            "table `{table}` ({pointer})"
        );
    }
    // The tables that hold entries by id point at the right definitions.
    assert_eq!(
        schema.pointer("/properties/keys/additionalProperties/$ref"),
        Some(&Value::from("#/$defs/key"))
    );
    assert_eq!(
        schema.pointer("/properties/servers/additionalProperties/$ref"),
        Some(&Value::from("#/$defs/server"))
    );
}

#[test]
fn every_table_of_the_schema_is_closed_and_described() {
    fn walk(v: &Value, at: &str, problems: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    if map.get("additionalProperties") != Some(&Value::Bool(false)) {
                        problems.push(format!("{at}: additionalProperties is not false"));
                    }
                    for (k, p) in props {
                        let described = p.get("description").is_some() || p.get("$ref").is_some();
                        if !described {
                            problems.push(format!("{at}/properties/{k}: no description"));
                        }
                    }
                }
                for (k, child) in map {
                    walk(child, &format!("{at}/{k}"), problems);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{at}/{i}"), problems);
                }
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    walk(&schema(), "", &mut problems);
    assert!(problems.is_empty(), "{problems:#?}");
}
