//! examples/ci/github-actions.yml: the `plan` job of a pull request, then the `apply` job of
//! the push to the default branch, their `run:` steps executed as GitHub Actions runs them.

use std::collections::BTreeMap;
use std::path::Path;

use serde_norway::Value;

use super::{Lab, SECRET_VAR, is_saved_plan, recipe, saved_plan_changes, show, str_at};

/// The environment of a step: the workflow's, the job's and the step's `env:`, with
/// `${{ secrets.KMSDNS_TSIG_SECRET }}` as the repository secret would give it. Any other
/// expression is a test failure: the test would not know its value.
fn step_env(workflow: &Value, job: &Value, step: &Value, secret: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for scope in [workflow, job, step] {
        let Some(map) = scope.get("env").and_then(Value::as_mapping) else {
            continue;
        };
        for (k, v) in map {
            let name = k.as_str().unwrap().to_owned();
            let value = v
                .as_str()
                .unwrap_or_else(|| panic!("env {name}: not a string"));
            let value = value.replace(&format!("${{{{ secrets.{SECRET_VAR} }}}}"), secret);
            assert!(
                !value.contains("${{"),
                "env {name} = {value}: unknown expression"
            );
            env.insert(name, value);
        }
    }
    env
}

/// Runs the `run:` steps of `job` (all but `install`, and the `uses:` actions) in `dir` with
/// bash as `defaults.run.shell: bash` runs them; asserts each succeeds. Returns the step
/// summary and the step outputs written.
fn run_job(lab: &Lab, workflow: &Value, name: &str, dir: &Path) -> (String, String) {
    assert_eq!(
        workflow["defaults"]["run"]["shell"].as_str(),
        Some("bash"),
        "the steps must run under bash -eo pipefail"
    );
    let job = &workflow["jobs"][name];
    let steps = job["steps"].as_sequence().expect("job steps");
    // Per job (next to its checkout, not in it), as the runner gives each job its own.
    let summary = dir.with_extension("step_summary.md");
    let output = dir.with_extension("github_output");
    let mut ran = 0;
    for step in steps {
        let Some(script) = str_at(step, "run") else {
            assert!(
                step.get("uses").is_some(),
                "a step with neither run nor uses"
            );
            continue;
        };
        if str_at(step, "id") == Some("install") {
            assert!(script.contains("cargo install --locked"), "{script}");
            continue;
        }
        assert!(
            step.get("if").is_none(),
            "a run step with `if:` (the test does not evaluate conditions): {script}"
        );
        assert!(!script.contains("${{"), "expression in a script: {script}");
        let mut env = step_env(workflow, job, step, &lab.secret);
        env.insert("GITHUB_STEP_SUMMARY".into(), summary.display().to_string());
        env.insert("GITHUB_OUTPUT".into(), output.display().to_string());
        let out = lab.bash(
            dir,
            &["--noprofile", "--norc", "-eo", "pipefail"],
            script,
            &env,
        );
        assert!(out.status.success(), "step {script}\n{}", show(&out));
        ran += 1;
    }
    assert!(ran > 0, "job {name} has no run steps");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (read(&summary), read(&output))
}

#[test]
fn the_github_actions_recipe_plans_on_pull_requests_and_applies_on_push() {
    let workflow = recipe("github-actions.yml");
    assert!(workflow["on"].get("pull_request").is_some());
    assert!(workflow["on"]["push"].get("branches").is_some());
    let plan_job = &workflow["jobs"]["plan"];
    let apply_job = &workflow["jobs"]["apply"];
    assert!(str_at(plan_job, "if").unwrap().contains("pull_request"));
    assert!(str_at(apply_job, "if").unwrap().contains("push"));
    assert!(
        str_at(apply_job, "environment").is_some(),
        "apply needs an environment with reviewers"
    );
    let artifact = plan_job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| str_at(s, "uses").is_some_and(|u| u.starts_with("actions/upload-artifact")))
        .expect("the plan job uploads an artifact");
    assert!(
        str_at(&artifact["with"], "path")
            .unwrap()
            .contains("plan.json")
    );

    let mut lab = Lab::start();

    // The pull request: validate 0, plan 2 (tolerated), plan.json and the summary written,
    // nothing sent.
    let pr = lab.checkout();
    let (summary, outputs) = run_job(&lab, &workflow, "plan", &pr);
    let calls = lab.take_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0], (0, "validate".into()));
    assert_eq!(calls[1].0, 2, "{calls:?}");
    assert!(is_saved_plan(&calls[1].1), "{calls:?}");
    assert!(outputs.contains("exitcode=2"), "{outputs}");
    assert!(summary.contains("kms1.example.com"), "{summary}");
    assert_eq!(saved_plan_changes(&pr.join("plan.json")), 4);
    lab.assert_nothing_applied();

    // The merge: the apply job plans, applies that plan.json, plans again.
    let main = lab.checkout();
    let (summary, outputs) = run_job(&lab, &workflow, "apply", &main);
    let calls = lab.take_calls();
    let codes: Vec<i32> = calls.iter().map(|c| c.0).collect();
    assert_eq!(codes, [0, 2, 0, 0], "{calls:?}");
    assert!(is_saved_plan(&calls[1].1), "{calls:?}");
    assert_eq!(calls[2].1, "apply --yes plan.json");
    assert_eq!(calls[3].1, "plan --detailed-exitcode");
    assert!(outputs.contains("exitcode=2"), "{outputs}");
    assert!(summary.contains("kms1.example.com"), "{summary}");
    lab.assert_applied();
    assert_eq!(lab.plan_exit_code(&main), 0, "a second plan has no changes");

    // The next merge with nothing to change: plan 0, apply of the empty plan 0.
    let again = lab.checkout();
    run_job(&lab, &workflow, "apply", &again);
    let codes: Vec<i32> = lab.take_calls().iter().map(|c| c.0).collect();
    assert_eq!(codes, [0, 0, 0, 0]);
    lab.assert_applied();
}
