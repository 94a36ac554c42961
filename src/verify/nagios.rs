//! `verify --format nagios`: the report as a monitoring plugin's output
//! (<https://www.monitoring-plugins.org/doc/guidelines.html>): one status line
//! `KMSDNS <STATE> - <summary> | <perfdata>`, then long output, one line per failed check.
//! Pure: the report in, the text and the state out.
//!
//! Which failure is which state:
//! - WARNING: `ns-out-of-sync` (clients still get an answer, maybe an old one) and
//!   `suffix-not-covered` (only clients searching that suffix are affected);
//! - CRITICAL: `srv-missing`, `srv-wrong`, `name-resolution`, `port-blocked`, and
//!   `dns-unreachable` past rung 1 (clients cannot activate through discovery);
//! - UNKNOWN: the resolver itself does not answer (rung 1, or a suffix lookup that fails), so
//!   nothing could be observed. A definite CRITICAL outranks UNKNOWN, which outranks WARNING.
//!
//! The caller turns a verify that cannot run at all (bad config, no resolver) into
//! [`unknown_line`] with exit code 3.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{Check, DomainReport, FailureClass, VerifyReport};

/// A plugin state, ordered by how bad it is (`Ok` < `Warning` < `Unknown` < `Critical`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Every check passed.
    Ok,
    /// Only warnings (name servers out of sync, a suffix not covered).
    Warning,
    /// The checks could not be made (the resolver does not answer).
    Unknown,
    /// Clients cannot activate through DNS.
    Critical,
}

impl State {
    /// The exit code of the plugin contract: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn code(self) -> u8 {
        match self {
            State::Ok => 0,
            State::Warning => 1,
            State::Critical => 2,
            State::Unknown => 3,
        }
    }

    /// `OK`, `WARNING`, `CRITICAL` or `UNKNOWN`, as the status line prints it.
    pub fn label(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }
}

/// The state a failed check stands for (`Ok` for a passed one).
pub fn check_state(check: &Check) -> State {
    if check.ok {
        return State::Ok;
    }
    match (check.rung, check.class) {
        ("resolver" | "suffix", Some(FailureClass::DnsUnreachable)) => State::Unknown,
        (_, Some(FailureClass::NsOutOfSync | FailureClass::SuffixNotCovered)) => State::Warning,
        _ => State::Critical,
    }
}

/// The worst state among `checks`.
fn worst<'a>(checks: impl IntoIterator<Item = &'a Check>) -> State {
    checks
        .into_iter()
        .map(check_state)
        .max()
        .unwrap_or(State::Ok)
}

/// The state of the whole report.
pub fn state(report: &VerifyReport) -> State {
    worst(
        report
            .domains
            .iter()
            .flat_map(|d| &d.checks)
            .chain(&report.suffixes),
    )
}

/// The plugin output for `report` (ends with a newline) and its state.
pub fn render(report: &VerifyReport) -> (String, State) {
    let state = state(report);
    let failing: Vec<&DomainReport> = report.domains.iter().filter(|d| !d.ok()).collect();
    let bad_suffixes: Vec<&Check> = report.suffixes.iter().filter(|c| !c.ok).collect();
    let mut parts = Vec::new();
    if !failing.is_empty() || bad_suffixes.is_empty() {
        let mut p = format!(
            "{} of {} domains failing",
            failing.len(),
            report.domains.len()
        );
        if !failing.is_empty() {
            let list: Vec<String> = failing
                .iter()
                .map(|d| format!("{} {}", d.domain.as_str(), classes(&d.checks)))
                .collect();
            p.push_str(&format!(": {}", list.join(", ")));
        }
        parts.push(p);
    }
    if !bad_suffixes.is_empty() {
        let list: Vec<String> = bad_suffixes
            .iter()
            .map(|c| format!("{} {}", suffix_name(c), classes(std::slice::from_ref(*c))))
            .collect();
        parts.push(format!(
            "{} of {} suffixes failing: {}",
            bad_suffixes.len(),
            report.suffixes.len(),
            list.join(", ")
        ));
    }
    if state == State::Ok {
        parts = vec![format!(
            "{} domains, {} suffixes, all checks passed",
            report.domains.len(),
            report.suffixes.len()
        )];
    }
    let mut out = format!(
        "KMSDNS {} - {} | {}\n",
        state.label(),
        clean(&parts.join("; ")),
        perfdata(report, failing.len())
    );
    for d in &report.domains {
        let _ = writeln!(
            out,
            "{}: {}",
            clean(d.domain.as_str()),
            worst(&d.checks).label()
        );
        for c in d.checks.iter().filter(|c| !c.ok) {
            let _ = writeln!(out, "{}", clean(&failure_line(c)));
        }
    }
    for c in &report.suffixes {
        let _ = writeln!(
            out,
            "suffix {}: {}",
            clean(suffix_name(c)),
            check_state(c).label()
        );
        if !c.ok {
            let _ = writeln!(out, "{}", clean(&failure_line(c)));
        }
    }
    (out, state)
}

/// The status line of a verify that could not run at all (state UNKNOWN, exit 3).
pub fn unknown_line(message: &str) -> String {
    let first = message.lines().next().unwrap_or("verify could not run");
    format!("KMSDNS UNKNOWN - {}\n", clean(first))
}

/// "srv-missing" or "srv-wrong+port-blocked": the failure classes of the checks, in order.
fn classes(checks: &[Check]) -> String {
    let mut seen = BTreeSet::new();
    let mut out: Vec<String> = Vec::new();
    for c in checks.iter().filter(|c| !c.ok) {
        let name = c.class.map_or_else(|| "failure".to_string(), class_name);
        if seen.insert(name.clone()) {
            out.push(name);
        }
    }
    out.join("+")
}

/// The class as the JSON report spells it (`srv-missing`).
fn class_name(class: FailureClass) -> String {
    serde_json::to_value(class)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{class:?}"))
}

/// The suffix a rung-5 check is about.
fn suffix_name(c: &Check) -> &str {
    c.suffix.as_ref().map_or("?", |s| s.as_str())
}

fn failure_line(c: &Check) -> String {
    let class = c.class.map_or_else(|| "failure".to_string(), class_name);
    let mut line = format!(
        "  [{}] {} {}: {}",
        check_state(c).label(),
        c.rung,
        class,
        c.detail
    );
    if let Some(fix) = &c.fix {
        line.push_str(&format!(" (fix: {fix})"));
    }
    line
}

/// '|' separates performance data in plugin output; text never carries one (nor a newline).
fn clean(text: &str) -> String {
    text.replace('|', "/").replace(['\n', '\r'], " ")
}

/// `'label'=value[UOM];warn;crit;min;max` items, space separated.
fn perfdata(report: &VerifyReport, failing: usize) -> String {
    let domains = report.domains.len();
    let checks_failed = report
        .domains
        .iter()
        .flat_map(|d| &d.checks)
        .chain(&report.suffixes)
        .filter(|c| !c.ok)
        .count();
    let found: usize = report.domains.iter().filter_map(|d| d.records_found).sum();
    let expected: usize = report
        .domains
        .iter()
        .filter_map(|d| d.records_expected)
        .sum();
    let suffixes_failing = report.suffixes.iter().filter(|c| !c.ok).count();
    let mut items = vec![
        format!("'domains'={domains};;;0"),
        format!("'failing'={failing};;;0;{domains}"),
        format!("'checks_failed'={checks_failed};;;0"),
        format!("'records_found'={found};;;0"),
    ];
    if report.domains.iter().any(|d| d.records_expected.is_some()) {
        items.push(format!("'records_expected'={expected};;;0"));
    }
    items.push(format!("'suffixes'={};;;0", report.suffixes.len()));
    items.push(format!(
        "'suffixes_failing'={suffixes_failing};;;0;{}",
        report.suffixes.len()
    ));
    let connect_max = report
        .domains
        .iter()
        .flat_map(|d| &d.checks)
        .filter_map(|c| c.tcp.as_ref()?.max_connect_seconds())
        .reduce(f64::max);
    if let Some(max) = connect_max {
        items.push(format!("'tcp_connect_max'={max:.6}s;;;0"));
    }
    items.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(rung: &'static str, class: FailureClass) -> Check {
        Check::fail(rung, class, "detail | with a pipe", "fix")
    }

    #[test]
    fn failure_classes_map_to_states() {
        use FailureClass::*;
        for (rung, class, want) in [
            ("authoritative", NsOutOfSync, State::Warning),
            ("suffix", SuffixNotCovered, State::Warning),
            ("srv", SrvMissing, State::Critical),
            ("srv", SrvWrong, State::Critical),
            ("target", NameResolution, State::Critical),
            ("tcp", PortBlocked, State::Critical),
            ("authoritative", DnsUnreachable, State::Critical),
            ("resolver", DnsUnreachable, State::Unknown),
            ("suffix", DnsUnreachable, State::Unknown),
        ] {
            assert_eq!(check_state(&failed(rung, class)), want, "{rung} {class:?}");
        }
        assert_eq!(check_state(&Check::pass("srv", "ok")), State::Ok);
        // Critical outranks Unknown, which outranks Warning.
        let mixed = [
            failed("suffix", FailureClass::SuffixNotCovered),
            failed("resolver", FailureClass::DnsUnreachable),
        ];
        assert_eq!(worst(&mixed), State::Unknown);
        let mixed = [
            failed("resolver", FailureClass::DnsUnreachable),
            failed("tcp", FailureClass::PortBlocked),
        ];
        assert_eq!(worst(&mixed), State::Critical);
        assert_eq!(
            [State::Ok, State::Warning, State::Critical, State::Unknown].map(State::code),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn text_never_carries_a_pipe_or_newline() {
        assert_eq!(clean("a | b\nc"), "a / b c");
        assert_eq!(
            unknown_line("x.toml: error | bad\nsnippet"),
            "KMSDNS UNKNOWN - x.toml: error / bad\n"
        );
        let line = failure_line(&failed("srv", FailureClass::SrvWrong));
        assert!(clean(&line).contains("detail / with a pipe"), "{line}");
    }
}
