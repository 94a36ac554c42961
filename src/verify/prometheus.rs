//! `verify --format prometheus`: the report in the Prometheus text exposition format 0.0.4,
//! for node_exporter's textfile collector. Pure: the report and the time in, the text out.
//!
//! Every family has HELP and TYPE lines (all gauges). Label values are escaped as the format
//! asks (`\` → `\\`, `"` → `\"`, newline → `\n`). A family has one sample per label set:
//! `kmsdns_check_ok` is per domain and rung (0 when any check of that rung failed, e.g. one of
//! several targets); client suffixes appear with `rung="suffix"` and the suffix as `domain`.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::VerifyReport;

/// The exposition text for `report`, made at `timestamp` (seconds since the Unix epoch).
pub fn render(report: &VerifyReport, timestamp: f64) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "kmsdns_verify_ok",
        "1 when every check of kmsdns verify passed, else 0.",
        &[(vec![], bool_value(report.ok))],
    );
    family(
        &mut out,
        "kmsdns_verify_timestamp_seconds",
        "When kmsdns verify ran, in seconds since the Unix epoch.",
        &[(vec![], format!("{timestamp:.3}"))],
    );
    let domain = |d: &str| vec![("domain", d.to_string())];
    family(
        &mut out,
        "kmsdns_domain_ok",
        "1 when every check of the domain passed, else 0.",
        &report
            .domains
            .iter()
            .map(|d| (domain(d.domain.as_str()), bool_value(d.ok())))
            .collect::<Vec<_>>(),
    );
    family(
        &mut out,
        "kmsdns_srv_records_found",
        "_vlmcs._tcp SRV records the resolver returned for the domain (absent when the lookup failed).",
        &report
            .domains
            .iter()
            .filter_map(|d| Some((domain(d.domain.as_str()), d.records_found?.to_string())))
            .collect::<Vec<_>>(),
    );
    family(
        &mut out,
        "kmsdns_srv_records_expected",
        "_vlmcs._tcp SRV records the config asks for (absent without a config).",
        &report
            .domains
            .iter()
            .filter_map(|d| Some((domain(d.domain.as_str()), d.records_expected?.to_string())))
            .collect::<Vec<_>>(),
    );
    // Per (domain, rung): passed only when every check of that rung passed.
    let mut rungs: BTreeMap<(String, &str), bool> = BTreeMap::new();
    let mut order = Vec::new();
    let checks = report
        .domains
        .iter()
        .flat_map(|d| d.checks.iter().map(move |c| (d.domain.as_str(), c)))
        .chain(
            report
                .suffixes
                .iter()
                .map(|c| (c.suffix.as_ref().map_or("", |s| s.as_str()), c)),
        );
    for (name, c) in checks {
        let key = (name.to_string(), c.rung);
        match rungs.get_mut(&key) {
            Some(ok) => *ok &= c.ok,
            None => {
                rungs.insert(key.clone(), c.ok);
                order.push(key);
            }
        }
    }
    family(
        &mut out,
        "kmsdns_check_ok",
        "1 when the rung of the troubleshooting ladder passed for the domain (every check of it), else 0.",
        &order
            .iter()
            .map(|k| {
                (
                    vec![("domain", k.0.clone()), ("rung", k.1.to_string())],
                    bool_value(rungs[k]),
                )
            })
            .collect::<Vec<_>>(),
    );
    let mut connects = Vec::new();
    for d in &report.domains {
        for probe in d.checks.iter().filter_map(|c| c.tcp.as_ref()) {
            if let Some(s) = probe.max_connect_seconds() {
                let labels = vec![
                    ("domain", d.domain.as_str().to_string()),
                    ("target", probe.target.as_str().to_string()),
                    ("port", probe.port.to_string()),
                ];
                if !connects.iter().any(|(l, _)| *l == labels) {
                    connects.push((labels, s.to_string()));
                }
            }
        }
    }
    family(
        &mut out,
        "kmsdns_tcp_connect_seconds",
        "Time to open a TCP connection to the SRV target on its port (the slowest of its addresses that accepted).",
        &connects,
    );
    out
}

type Labels = Vec<(&'static str, String)>;

/// One family: HELP, TYPE and its samples; a family without samples is left out.
fn family(out: &mut String, name: &str, help: &str, samples: &[(Labels, String)]) {
    if samples.is_empty() {
        return;
    }
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let list: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = writeln!(out, "{name}{{{}}} {value}", list.join(","));
        }
    }
}

fn bool_value(ok: bool) -> String {
    if ok { "1" } else { "0" }.to_string()
}

/// A label value as the format writes it: backslash, double quote and newline escaped.
pub fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// HELP text: backslash and newline escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label("x\ny"), r"x\ny");
        assert_eq!(escape_help("a\\b\nc"), r"a\\b\nc");
    }
}
