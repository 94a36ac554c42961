//! The words of configuration errors: serde's type errors and name errors said in the terms of
//! the file, with a hint for the usual cause.

use crate::model::NameError;

/// serde's "invalid type: string \"1688\", expected i64" in the words of the file format,
/// with a hint for the usual cause.
pub(super) fn friendly_type_error(msg: &str, what: &str, key: &str) -> (String, String) {
    let field = key.rsplit('.').next().unwrap_or(key);
    if msg.contains(" as i128") {
        let range = match field {
            "port" => "a port from 1 to 65535",
            "priority" | "weight" => "a value from 0 to 65535",
            "ttl" => "a TTL from 0 to 2147483647",
            "retries" => "a value from 0 to 10",
            "max_inflight" => "a value from 1 to 256",
            _ => "a smaller number",
        };
        return (
            format!("`{field}` is out of range: the number is far too large"),
            format!("use {range}"),
        );
    }
    if field == "timeout" && msg.contains("integer") {
        return (
            "`timeout` must be a duration in quotes, not a bare number".to_string(),
            "write timeout = \"3s\" (or \"500ms\"), from 100ms to 60s per try".to_string(),
        );
    }
    let msg = msg
        .replace("invalid type: ", "wrong type: ")
        .replace("expected i64", "expected an integer")
        .replace("expected a sequence", "expected an array")
        .replace("expected a string", "expected a string in quotes")
        .replace("found integer", "found an integer");
    let hint = if msg.contains("expected an integer") && msg.contains("string") {
        "write numbers without quotes, e.g. port = 1688".to_string()
    } else if msg.contains("expected an array") {
        "write a list in brackets, e.g. hosts = [\"kms1.corp.example.com\"]".to_string()
    } else if msg.contains("expected a string") || msg.contains("expected a host name string") {
        "put the value in double quotes, e.g. name = \"kms1.corp.example.com\"".to_string()
    } else if msg.contains("expected an address string") {
        "put the address in double quotes, e.g. address = \"192.0.2.53:53\", or list several: address = [\"192.0.2.53\", \"192.0.2.54\"]".to_string()
    } else if msg.contains("expected a boolean") {
        "write true or false without quotes".to_string()
    } else {
        format!("see config.example.toml for the keys of {what}")
    };
    (msg, hint)
}

pub(super) fn name_hint(e: &NameError, host: bool) -> String {
    match e {
        NameError::IpAddress(_) => "SRV targets must be host names with A/AAAA records (RFC 2782); write the KMS host's FQDN, e.g. kms1.corp.example.com".into(),
        NameError::SingleLabel(n) => format!("write the fully qualified name, e.g. {n}.corp.example.com"),
        NameError::BadCharacter(_) => "use letters, digits and hyphens only; underscores and spaces are not valid in host names".into(),
        NameError::Idna(_) => "check the spelling, or write the A-label (xn--…) form yourself".into(),
        _ if host => "write the KMS host's fully qualified name, e.g. kms1.corp.example.com".into(),
        _ => "write a DNS domain name, e.g. corp.example.com".into(),
    }
}
