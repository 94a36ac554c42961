//! `render powershell`: an idempotent script for Microsoft DNS (the DnsServer module).
//!
//! Per domain it reads the `_vlmcs._tcp` SRV records with `Get-DnsServerResourceRecord`,
//! removes the ones the file does not want (all of them with prune, only stale values of the
//! file's own targets without), and adds the missing ones. Running it twice changes nothing.

use super::{Rendered, Section, ZoneGroup, display_domain, domain_server, header, server_host};
use crate::model::KMS_SERVICE;
use crate::model::{DesiredState, Domain};

/// Microsoft DNS: idempotent PowerShell per domain (`Get-`, `Remove-`, `Add-DnsServerResourceRecord -Srv`).
pub fn render(config: &DesiredState, groups: &[ZoneGroup<'_>]) -> Rendered {
    let mut header = header(
        "#",
        "PowerShell for Microsoft DNS: the _vlmcs._tcp SRV records of the KMS hosts (Microsoft KMS activation).",
        config,
        &[
            "as a DNS administrator, on the DNS server or a machine with the DnsServer module",
            "(RSAT): powershell -ExecutionPolicy Bypass -File THIS-FILE.ps1",
            "It is idempotent: it only adds missing records and removes unwanted ones.",
        ],
    );
    header.push_str(PRELUDE);
    let sections = groups
        .iter()
        .map(|g| Section {
            file_name: format!("{}.ps1", g.zone.as_str()),
            text: zone_script(config, g),
        })
        .collect();
    Rendered {
        header,
        sections,
        table_head: None,
    }
}

const PRELUDE: &str = r#"
#Requires -Modules DnsServer
$ErrorActionPreference = 'Stop'

# True when $Record (from Get-DnsServerResourceRecord) has exactly these SRV values.
function Test-KmsSrv($Record, [string]$Target, [int]$Priority, [int]$Weight, [int]$Port, [int]$Ttl) {
    $d = $Record.RecordData
    ($d.DomainName.TrimEnd('.') -eq $Target.TrimEnd('.')) -and ($d.Priority -eq $Priority) -and
    ($d.Weight -eq $Weight) -and ($d.Port -eq $Port) -and ($Record.TimeToLive.TotalSeconds -eq $Ttl)
}
"#;

/// Single-quoted PowerShell string literal (a quote inside is doubled).
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The blocks of one zone.
pub fn zone_script(config: &DesiredState, group: &ZoneGroup<'_>) -> String {
    let mut out = String::new();
    if group.configured {
        out.push_str(&format!("# ---- zone {}\n", display_domain(&group.zone)));
    } else {
        out.push_str(&format!(
            "# ---- zone not configured for {d}: it is used as the zone name here.\n\
             # If it lies in a parent zone, set $zone to that zone and $name relative to it.\n",
            d = group.zone.as_str()
        ));
    }
    out.push_str(&format!("$zone = {}\n", quote(group.zone.as_str())));
    for d in &group.domains {
        domain_block(&mut out, config, group, d);
    }
    out
}

fn domain_block(out: &mut String, config: &DesiredState, group: &ZoneGroup<'_>, d: &Domain) {
    let name = d
        .owner()
        .relative_to(&group.zone)
        .unwrap_or_else(|| KMS_SERVICE.to_string());
    let computer = match domain_server(config, d) {
        Some(s) => {
            out.push_str(&format!(
                "\n# {} (server {})\n",
                display_domain(&d.name),
                s.id
            ));
            format!(" -ComputerName {}", quote(&server_host(s.address())))
        }
        None => {
            out.push_str(&format!(
                "\n# {} (no server configured: the local DNS server; add -ComputerName to change)\n",
                display_domain(&d.name)
            ));
            String::new()
        }
    };
    out.push_str(&format!("$name = {}\n", quote(&name)));
    out.push_str(&format!(
        "$existing = @(Get-DnsServerResourceRecord{computer} -ZoneName $zone -Name $name -RRType Srv -ErrorAction SilentlyContinue)\n"
    ));
    // Remove first: Microsoft DNS refuses to add a record whose data already exists.
    let wanted: Vec<String> = d
        .records
        .iter()
        .map(|r| {
            format!(
                "(Test-KmsSrv $r {} {} {} {} {})",
                quote(&r.target.to_string()),
                r.priority,
                r.weight,
                r.port,
                r.ttl
            )
        })
        .collect();
    let keep = if wanted.is_empty() {
        "$false".to_string()
    } else {
        wanted.join(" -or ")
    };
    if d.prune {
        out.push_str("# prune = true: remove every SRV record here that the file does not list\n");
        out.push_str(&format!(
            "foreach ($r in $existing) {{\n    if (-not ({keep})) {{\n"
        ));
    } else if !d.records.is_empty() {
        let ours: Vec<String> = d.records.iter().map(|r| quote(r.target.as_str())).collect();
        out.push_str(
            "# prune = false: other SRV records stay; only stale values of these targets go\n",
        );
        out.push_str(&format!(
            "foreach ($r in $existing) {{\n    if (({}) -contains $r.RecordData.DomainName.TrimEnd('.') -and -not ({keep})) {{\n",
            ours.join(", ")
        ));
    } else {
        out.push_str("# prune = false and no hosts: nothing to do\n");
        return;
    }
    out.push_str(&format!(
        "        Remove-DnsServerResourceRecord{computer} -ZoneName $zone -InputObject $r -Force\n    }}\n}}\n"
    ));
    for r in &d.records {
        let target = quote(&r.target.to_string());
        out.push_str(&format!(
            "if (-not ($existing | Where-Object {{ Test-KmsSrv $_ {target} {p} {w} {port} {ttl} }})) {{\n    \
             Add-DnsServerResourceRecord{computer} -Srv -ZoneName $zone -Name $name -DomainName {target} -Priority {p} -Weight {w} -Port {port} -TimeToLive (New-TimeSpan -Seconds {ttl})\n}}\n",
            p = r.priority,
            w = r.weight,
            port = r.port,
            ttl = r.ttl,
        ));
    }
}
