//! `kmsdns verify` and `plan` agree about a foreign target kept with `prune = false`.

use crate::harness::cli::{kmsdns, write_config};

use super::*;

/// The issue "The truth, always" (A): verify and plan agree. A target the config does not list
/// (a Windows KMS host publishing itself) is kept by plan when prune = false: verify reports it
/// as an info line and passes, and plan has nothing to do. With prune = true plan would delete
/// it: verify fails the srv rung and says to run plan/apply.
#[test]
fn kept_foreign_target_is_info_and_verify_agrees_with_plan() {
    let (_kms, port) = kms_listener();
    let bind = zone_with(&[
        "self A 127.0.0.1".to_string(),
        srv_line(port, "kms1.example.com."),
        srv_line(port, "self.example.com."),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (resolver, server_port) = (bind.addr().to_string(), bind.port().to_string());
    for prune in [false, true] {
        let cfg = write_config(
            dir.path(),
            &format!(
                "[defaults]\nprune = {prune}\n[[hosts]]\nname = \"kms1.example.com\"\nport = {port}\n[[domains]]\nname = \"corp.example.com\"\n"
            ),
        );
        let (code, report) = verify(&cfg, &resolver, bind.port(), &[]);
        let srv = report["domains"][0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["rung"] == "srv")
            .unwrap()
            .clone();
        assert_eq!(report["domains"][0]["prune"], prune, "{report:#}");
        let text = kmsdns()
            .arg("-c")
            .arg(&cfg)
            .args([
                "verify",
                "--resolver",
                &resolver,
                "--server-port",
                &server_port,
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&text.stdout).to_string();
        let plan = kmsdns()
            .arg("-c")
            .arg(&cfg)
            .args([
                "plan",
                "--detailed-exitcode",
                "--resolver",
                &resolver,
                "--server-port",
                &server_port,
            ])
            .output()
            .unwrap();
        let plan_text = String::from_utf8_lossy(&plan.stdout).to_string();
        if prune {
            assert_eq!(code, 1, "{report:#}");
            assert_eq!(srv["ok"], false);
            assert_eq!(srv["class"], "srv-wrong");
            assert!(
                srv["detail"].as_str().unwrap().ends_with(&format!(
                    "kmsdns plan would delete 0 0 {port} self.example.com."
                )),
                "{srv:#}"
            );
            let fix = srv["fix"].as_str().unwrap();
            assert!(
                fix.contains("kmsdns plan") && fix.contains("kmsdns apply"),
                "{fix}"
            );
            assert!(srv.get("info").is_none(), "{srv:#}");
            assert!(text.contains("[SRV record wrong]"), "{text}");
            assert_eq!(plan.status.code(), Some(2), "{plan_text}");
            assert!(
                plan_text.contains(&format!("- 3600 IN SRV 0 0 {port} self.example.com.")),
                "{plan_text}"
            );
        } else {
            assert_eq!(code, 0, "{report:#}");
            assert_eq!(report["ok"], true);
            assert_eq!(srv["ok"], true);
            assert!(srv.get("fix").is_none() && srv.get("class").is_none());
            let info = &srv["info"][0];
            assert_eq!(info["kind"], "unmanaged-kept");
            assert_eq!(info["record"]["target"], "self.example.com.");
            assert!(
                info["hint"]
                    .as_str()
                    .unwrap()
                    .contains("DisableDnsPublishing=1")
            );
            // The foreign target is still checked like any other: clients may pick it.
            let targets = report["domains"][0]["checks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["rung"] == "target" && c["ok"] == true)
                .count();
            assert_eq!(targets, 2, "{report:#}");
            let line = format!(
                "  ℹ srv           unmanaged: 0 0 {port} self.example.com. is not in the config; kept because prune = false (kmsdns plan leaves it)\n    note: if self.example.com. is a Windows KMS host that publishes itself, set DisableDnsPublishing=1 on it"
            );
            assert!(text.contains(&line), "{text}");
            assert!(
                text.contains("All checks passed.") && !text.contains("apply"),
                "{text}"
            );
            assert_eq!(plan.status.code(), Some(0), "{plan_text}");
            assert!(
                plan_text.contains(&format!(
                    "= 3600 IN SRV 0 0 {port} self.example.com.  (unmanaged: kept because prune = false)"
                )),
                "{plan_text}"
            );
        }
    }
}
