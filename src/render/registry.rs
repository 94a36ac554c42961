//! `render registry`: a `.reg` file per KMS host for its own DNS publishing.
//!
//! Files are written the way regedit exports them: the `Windows Registry Editor Version 5.00`
//! line, CRLF line endings, `REG_MULTI_SZ` as `hex(7):` bytes of UTF-16LE text (every string
//! NUL-terminated, then one more NUL), hex lines continued with `\` and a two-space indent
//! once a line reaches 77 columns (regedit's, and Wine's, export rule). The text itself is
//! ASCII (names are A-labels), which regedit imports like its own UTF-16 exports.

use super::{Rendered, Section, ZoneGroup, header};
use crate::model::SrvRecord;
use crate::model::{DesiredState, Host};

/// The key newer Windows reads (Windows 7 / Server 2008 R2 and later).
pub const SPP_KEY: &str =
    r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SoftwareProtectionPlatform";
/// The key the Windows Server 2008 era activation guide names.
pub const SL_KEY: &str = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\SL";

/// regedit wraps a hex value once the line has reached this many columns.
const MAX_HEX_COLUMNS: usize = 77;

/// Choices of `render registry`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegistryOptions {
    /// Bare-domain entries under `…\CurrentVersion\SL` (Windows Server 2008).
    pub legacy: bool,
    /// `DisableDnsPublishing`=1 instead of a publish list: kmsdns owns the records.
    pub disable_publishing: bool,
}

/// A `.reg` file per KMS host: the domains it publishes in (`DnsDomainPublishList`), or with `disable_publishing` the switch that stops it publishing itself.
pub fn render(config: &DesiredState, groups: &[ZoneGroup<'_>], opts: RegistryOptions) -> Rendered {
    let domains: Vec<_> = groups
        .iter()
        .flat_map(|g| g.domains.iter().copied())
        .collect();
    let mut sections = Vec::new();
    for host in &config.hosts {
        let served: Vec<(String, &SrvRecord)> = domains
            .iter()
            .filter_map(|d| {
                d.records
                    .iter()
                    .find(|r| r.target == host.name)
                    .map(|r| (d.name.as_str().to_string(), r))
            })
            .collect();
        if served.is_empty() {
            continue;
        }
        sections.push(Section {
            file_name: format!("{}.reg", host.name.as_str()),
            text: host_file(config, host, &served, opts),
        });
    }
    Rendered {
        header: String::new(),
        sections,
        table_head: None,
    }
}

/// One complete `.reg` file, CRLF line endings.
pub fn host_file(
    config: &DesiredState,
    host: &Host,
    served: &[(String, &SrvRecord)],
    opts: RegistryOptions,
) -> String {
    let h = host.name.as_str();
    let what = if opts.disable_publishing {
        format!("KMS host {h}: turn off its own DNS publishing (kmsdns owns its SRV records).")
    } else {
        format!("KMS host {h}: the DNS domains it publishes its own _vlmcs._tcp SRV record in.")
    };
    let apply = [
        format!("on {h}, as an administrator: reg import {h}.reg"),
        "(or double-click the file; --out-dir writes one file per host),".to_string(),
        "then restart the Software Protection service: Restart-Service sppsvc".to_string(),
        "(cmd: net stop sppsvc && net start sppsvc). The Application event log then shows"
            .to_string(),
        "event 12294 when publishing worked, 12293 when it failed.".to_string(),
    ];
    let apply: Vec<&str> = apply.iter().map(String::as_str).collect();
    let mut lines: Vec<String> = vec!["Windows Registry Editor Version 5.00".into(), String::new()];
    lines.extend(
        header(";", &what, config, &apply)
            .lines()
            .map(str::to_string),
    );
    let key = if opts.legacy {
        lines.push(
            "; Location: ...\\CurrentVersion\\SL, read by Windows Server 2008 / Vista; newer"
                .into(),
        );
        lines.push("; Windows reads SoftwareProtectionPlatform (render without --legacy).".into());
        SL_KEY
    } else {
        lines.push(
            "; Location: ...\\CurrentVersion\\SoftwareProtectionPlatform, read by Windows 7 /"
                .into(),
        );
        lines.push(
            "; Server 2008 R2 and later (Server 2008 reads ...\\SL: render with --legacy).".into(),
        );
        SPP_KEY
    };
    let entries: Vec<String> = served
        .iter()
        .map(|(domain, r)| {
            if opts.legacy || opts.disable_publishing {
                domain.clone()
            } else {
                format!("{domain}, {}, {}", r.priority, r.weight)
            }
        })
        .collect();
    if opts.disable_publishing {
        lines.push(
            "; DisableDnsPublishing = 1: the host no longer registers its SRV record; kmsdns"
                .into(),
        );
        lines.push(
            "; publishes it in these domains (slmgr /cdns does the same; slmgr /sdns undoes it):"
                .into(),
        );
    } else {
        lines.push("; DnsDomainPublishList (REG_MULTI_SZ), one entry per domain:".into());
    }
    for e in &entries {
        lines.push(format!(";   {e}"));
    }
    lines.push(String::new());
    lines.push(format!("[{key}]"));
    if opts.disable_publishing {
        lines.push("\"DisableDnsPublishing\"=dword:00000001".into());
    } else {
        lines.push("\"DisableDnsPublishing\"=dword:00000000".into());
        lines.push(hex_value("DnsDomainPublishList", 7, &multi_sz(&entries)));
    }
    lines.push(String::new());
    let mut out = lines.join("\r\n");
    out.push_str("\r\n");
    out
}

/// REG_MULTI_SZ data: each string as UTF-16LE with a NUL, then a final NUL. An empty list is
/// a single NUL.
pub fn multi_sz(entries: &[String]) -> Vec<u8> {
    let mut units: Vec<u16> = Vec::new();
    for e in entries {
        units.extend(e.encode_utf16());
        units.push(0);
    }
    units.push(0);
    units.iter().flat_map(|u| u.to_le_bytes()).collect()
}

/// `"name"=hex(T):xx,xx,…` wrapped as regedit wraps it (lines joined with CRLF, no final
/// line break).
pub fn hex_value(name: &str, reg_type: u32, data: &[u8]) -> String {
    let mut out = format!("\"{name}\"=hex({reg_type:x}):");
    let mut column = out.len();
    for (i, b) in data.iter().enumerate() {
        out.push_str(&format!("{b:02x}"));
        if i + 1 == data.len() {
            break;
        }
        out.push(',');
        column += 3;
        if column >= MAX_HEX_COLUMNS {
            out.push_str("\\\r\n  ");
            column = 2;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_list_is_utf16le_with_two_terminators() {
        let data = multi_sz(&["a.b, 0, 0".to_string()]);
        assert_eq!(
            hex_value("DnsDomainPublishList", 7, &data),
            "\"DnsDomainPublishList\"=hex(7):61,00,2e,00,62,00,2c,00,20,00,30,00,2c,00,20,00,\\\r\n  30,00,00,00,00,00"
        );
    }

    #[test]
    fn empty_list_is_one_nul() {
        assert_eq!(hex_value("X", 7, &multi_sz(&[])), "\"X\"=hex(7):00,00");
    }

    #[test]
    fn long_values_wrap_at_regedit_columns() {
        let data = multi_sz(&[
            "corp.example.com, 0, 0".into(),
            "branch.example.net, 10, 0".into(),
        ]);
        let text = hex_value("DnsDomainPublishList", 7, &data);
        let lines: Vec<&str> = text.split("\r\n").collect();
        // First line: 30-column prefix + 16 bytes; then 25 bytes per line.
        assert_eq!(lines[0].len(), 30 + 16 * 3 + 1);
        assert!(
            lines[1..lines.len() - 1]
                .iter()
                .all(|l| l.len() == 2 + 25 * 3 + 1)
        );
        assert!(lines.iter().all(|l| l.len() <= 80));
        let back: Vec<u8> = text
            .split("hex(7):")
            .nth(1)
            .unwrap()
            .replace("\\\r\n  ", "")
            .split(',')
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect();
        assert_eq!(back, data);
    }
}
