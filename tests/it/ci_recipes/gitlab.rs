//! examples/ci/gitlab-ci.yml: a merge-request pipeline (validate, plan), then the default
//! branch's pipeline (validate, plan, and the manual apply job fed the plan job's artifacts),
//! each job's `script:` run as GitLab's runner runs it (bash, -eo pipefail), in its own checkout.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_norway::Value;

use super::{Lab, SECRET_VAR, is_saved_plan, recipe, saved_plan_changes, show, str_at};

/// The job's environment: the pipeline's `variables:` and the job's, and the masked CI/CD
/// variable [`SECRET_VAR`] (set in the project's settings, not in the file).
fn job_env(pipeline: &Value, job: &Value, secret: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for scope in [pipeline, job] {
        let Some(map) = scope.get("variables").and_then(Value::as_mapping) else {
            continue;
        };
        for (k, v) in map {
            let name = k.as_str().unwrap().to_owned();
            assert_ne!(name, SECRET_VAR, "the secret must not be in the file");
            env.insert(name, v.as_str().expect("a string variable").to_owned());
        }
    }
    env.insert(SECRET_VAR.into(), secret.into());
    env
}

/// Runs the `script:` of job `name` in `dir`; asserts it succeeds.
fn run_job(lab: &Lab, pipeline: &Value, name: &str, dir: &Path) {
    let out = try_job(lab, pipeline, name, dir);
    assert!(out.status.success(), "job {name}\n{}", show(&out));
}

/// Runs the `script:` of job `name` in `dir`.
fn try_job(lab: &Lab, pipeline: &Value, name: &str, dir: &Path) -> Output {
    let job = &pipeline[name];
    assert!(
        job.get("before_script").is_none(),
        "job {name}: its own before_script would replace the install in `default`"
    );
    let lines: Vec<&str> = job["script"]
        .as_sequence()
        .unwrap_or_else(|| panic!("job {name} has no script"))
        .iter()
        .map(|l| l.as_str().expect("a script line"))
        .collect();
    let script = lines.join("\n");
    let env = job_env(pipeline, job, &lab.secret);
    lab.bash(dir, &["-eo", "pipefail"], &script, &env)
}

/// Copies the `artifacts: paths` of job `from`, run in `src`, to `dst`, as `needs:` does.
fn pass_artifacts(pipeline: &Value, from: &str, src: &Path, dst: &Path) {
    for path in pipeline[from]["artifacts"]["paths"].as_sequence().unwrap() {
        let path = path.as_str().unwrap();
        std::fs::copy(src.join(path), dst.join(path))
            .unwrap_or_else(|e| panic!("artifact {path}: {e}"));
    }
}

#[test]
fn the_gitlab_recipe_plans_merge_requests_and_applies_the_saved_plan_by_hand() {
    let pipeline = recipe("gitlab-ci.yml");
    let install = pipeline["default"]["before_script"][0].as_str().unwrap();
    assert!(install.contains("cargo install --locked"), "{install}");
    let apply = &pipeline["apply"];
    let rule = &apply["rules"][0];
    assert_eq!(
        str_at(rule, "if"),
        Some("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")
    );
    assert_eq!(str_at(rule, "when"), Some("manual"));
    assert_eq!(str_at(&apply["needs"][0], "job"), Some("plan"));
    assert_eq!(apply["needs"][0]["artifacts"].as_bool(), Some(true));
    assert!(apply["environment"].get("name").is_some());
    let paths = &pipeline["plan"]["artifacts"]["paths"];
    assert!(
        paths
            .as_sequence()
            .unwrap()
            .iter()
            .any(|p| p.as_str() == Some("plan.json"))
    );

    let mut lab = Lab::start();

    // The merge request: validate 0, plan 2 (tolerated), plan.json written, nothing sent.
    let mr = lab.checkout();
    run_job(&lab, &pipeline, "validate", &mr);
    run_job(&lab, &pipeline, "plan", &mr);
    let calls = lab.take_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0], (0, "validate".into()));
    assert_eq!(calls[1].0, 2, "{calls:?}");
    assert!(is_saved_plan(&calls[1].1), "{calls:?}");
    assert_eq!(saved_plan_changes(&mr.join("plan.json")), 4);
    assert!(
        std::fs::read_to_string(mr.join("plan.md"))
            .unwrap()
            .contains("kms1.example.com")
    );
    lab.assert_nothing_applied();

    // The default branch: validate and plan in one checkout, the manual apply in another with
    // the plan job's artifacts.
    let (plan_dir, apply_dir) = (lab.checkout(), lab.checkout());
    run_job(&lab, &pipeline, "validate", &plan_dir);
    run_job(&lab, &pipeline, "plan", &plan_dir);
    pass_artifacts(&pipeline, "plan", &plan_dir, &apply_dir);
    run_job(&lab, &pipeline, "apply", &apply_dir);
    let calls = lab.take_calls();
    let codes: Vec<i32> = calls.iter().map(|c| c.0).collect();
    assert_eq!(codes, [0, 2, 0, 0], "{calls:?}");
    assert_eq!(calls[2].1, "apply --yes plan.json");
    assert_eq!(calls[3].1, "plan --detailed-exitcode");
    lab.assert_applied();
    assert_eq!(
        lab.plan_exit_code(&apply_dir),
        0,
        "a second plan has no changes"
    );

    // A re-run of the manual job applies the same artifact again: the records are no longer
    // what it was planned from, so it is refused as stale (exit 1, the job fails), nothing is
    // sent, and the fix is a new pipeline.
    let serial = lab.bind.soa_serial("example.com");
    let out = try_job(&lab, &pipeline, "apply", &apply_dir);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("stale plan: zone example.com."),
        "{}",
        show(&out)
    );
    assert_eq!(lab.take_calls(), [(1, "apply --yes plan.json".to_string())]);
    assert_eq!(
        lab.bind.soa_serial("example.com"),
        serial,
        "nothing was sent"
    );
    lab.assert_applied();
}
