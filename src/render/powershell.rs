//! `render powershell`: an idempotent script for Microsoft DNS (the DnsServer module), and the
//! least-privilege set-up for kmsdns in Active Directory.
//!
//! Per domain it reads the `_vlmcs._tcp` SRV records with `Get-DnsServerResourceRecord`,
//! removes the ones the file does not want (all of them with prune, only stale values of the
//! file's own targets without), and adds the missing ones, every command with `-ComputerName`
//! (the domain's configured server, else the script's `-DnsServer` parameter: the domain
//! controller that logged the user on). Running it twice changes nothing.
//!
//! With `-KmsdnsAccount DOMAIN\name` it also grants that account Read/Write Property on each
//! `_vlmcs._tcp` node's AD object (the node the script has just created as the admin), and
//! nothing else: in AD a dnsNode belongs to the account that created it, and a "Secure only"
//! zone lets another account change it only when the node's ACL says so. Checked against a
//! Samba AD DC in tests/it/samba_selftest.rs (`RPWP` on the node is enough; the zone stays
//! closed).

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
            "as a DNS administrator, on a domain controller or a machine with the DnsServer",
            "module (RSAT): powershell -ExecutionPolicy Bypass -File THIS-FILE.ps1",
            "[-DnsServer dc1.corp.example.com] [-KmsdnsAccount 'CORP\\svc-kmsdns']",
            "It is idempotent: it only adds missing records and removes unwanted ones.",
        ],
    );
    header.push_str(GUIDANCE);
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

const GUIDANCE: &str = r#"#
# Least privilege for kmsdns (Active Directory-integrated zones, dynamic updates "Secure only"):
#   kmsdns needs write access on each _vlmcs._tcp node it manages, and nothing else: not on
#   the zone. In AD a DNS node (a dnsNode object) belongs to the account that created it; if a
#   KMS host published its own record first, the node is that host's computer account's and
#   kmsdns's updates are refused. This script creates each node as you, the administrator, and
#   with -KmsdnsAccount grants that account Read/Write Property on the node object alone:
#     DC=_vlmcs._tcp[.label],DC=<zone>,CN=MicrosoftDNS,DC=DomainDnsZones,DC=<your domain>
#   By hand: dsacls "<that DN>" /G "CORP\svc-kmsdns:RPWP"
#   The records are static (no -AgeRecord): scavenging leaves them alone.
"#;

const PRELUDE: &str = r#"
#Requires -Modules DnsServer
param(
    # The DNS server for domains whose configuration names none: by default the domain
    # controller that logged you on (else this computer).
    [string]$DnsServer = $(if ($env:LOGONSERVER) { $env:LOGONSERVER.TrimStart('\') } else { $env:COMPUTERNAME }),
    # The account kmsdns runs as (DOMAIN\name). When given, it is granted write on each
    # _vlmcs._tcp node below, and on nothing else.
    [string]$KmsdnsAccount = ''
)
$ErrorActionPreference = 'Stop'

# True when $Record (from Get-DnsServerResourceRecord) has exactly these SRV values.
function Test-KmsSrv($Record, [string]$Target, [int]$Priority, [int]$Weight, [int]$Port, [int]$Ttl) {
    $d = $Record.RecordData
    ($d.DomainName.TrimEnd('.') -eq $Target.TrimEnd('.')) -and ($d.Priority -eq $Priority) -and
    ($d.Weight -eq $Weight) -and ($d.Port -eq $Port) -and ($Record.TimeToLive.TotalSeconds -eq $Ttl)
}

# Grants $Account Read/Write Property on the AD object of node $Name in $Zone, and on nothing
# else. Running it again adds nothing (an identical rule merges).
function Grant-KmsNodeWrite([string]$Server, [string]$Zone, [string]$Name, [string]$Account) {
    $info = Get-DnsServerZone -ComputerName $Server -Name $Zone
    if (-not $info.IsDsIntegrated) {
        Write-Warning "zone $Zone on $Server is not stored in Active Directory: no node ACL to set"
        return
    }
    $dn = "DC=$Name,$($info.DistinguishedName)"
    $node = [ADSI]"LDAP://$Server/$dn"
    $sid = (New-Object System.Security.Principal.NTAccount($Account)).Translate([System.Security.Principal.SecurityIdentifier])
    $rights = [System.DirectoryServices.ActiveDirectoryRights]'ReadProperty, WriteProperty'
    $rule = New-Object System.DirectoryServices.ActiveDirectoryAccessRule($sid, $rights, 'Allow')
    $node.psbase.ObjectSecurity.AddAccessRule($rule)
    $node.psbase.CommitChanges()
    Write-Host "granted $Account write on $dn (this node only)"
}
"#;

/// `text` for a `#` comment: control characters (a line break would end the comment) shown
/// as `?`.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Single-quoted PowerShell string literal (a quote inside is doubled).
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The blocks of one zone.
pub fn zone_script(config: &DesiredState, group: &ZoneGroup<'_>) -> String {
    let mut out = String::new();
    if group.configured {
        out.push_str(&format!(
            "# ---- zone {}\n",
            comment(&display_domain(&group.zone))
        ));
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
    match domain_server(config, d) {
        Some(s) => {
            out.push_str(&format!(
                "\n# {} (server {})\n",
                comment(&display_domain(&d.name)),
                comment(&s.id)
            ));
            out.push_str(&format!("$server = {}\n", quote(&server_host(s.address()))));
        }
        None => {
            out.push_str(&format!(
                "\n# {} (no server configured: -DnsServer)\n",
                comment(&display_domain(&d.name))
            ));
            out.push_str("$server = $DnsServer\n");
        }
    }
    out.push_str(&format!("$name = {}\n", quote(&name)));
    out.push_str(
        "$existing = @(Get-DnsServerResourceRecord -ComputerName $server -ZoneName $zone -Name $name -RRType Srv -ErrorAction SilentlyContinue)\n",
    );
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
    out.push_str(
        "        Remove-DnsServerResourceRecord -ComputerName $server -ZoneName $zone -InputObject $r -Force\n    }\n}\n",
    );
    for r in &d.records {
        let target = quote(&r.target.to_string());
        out.push_str(&format!(
            "if (-not ($existing | Where-Object {{ Test-KmsSrv $_ {target} {p} {w} {port} {ttl} }})) {{\n    \
             Add-DnsServerResourceRecord -Srv -ComputerName $server -ZoneName $zone -Name $name -DomainName {target} -Priority {p} -Weight {w} -Port {port} -TimeToLive (New-TimeSpan -Seconds {ttl})\n}}\n",
            p = r.priority,
            w = r.weight,
            port = r.port,
            ttl = r.ttl,
        ));
    }
    if !d.records.is_empty() {
        out.push_str(
            "if ($KmsdnsAccount) { Grant-KmsNodeWrite $server $zone $name $KmsdnsAccount }\n",
        );
    }
}
