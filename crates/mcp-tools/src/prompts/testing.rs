//! Testing prompts: the triage of a failing test run.

use serde::Deserialize;
use tool_metadata::__private::{parse_params, schema_for};
use tool_metadata::{Content, ResourceBody, ToolError};

use crate::Router;
use crate::protocol::{PromptDescriptor, PromptMessage, PromptOutput, ProtocolFuture, Role};

#[derive(Deserialize, schemars::JsonSchema)]
struct TriageArgs {
    /// The job id of a finished `test_run` or `lint_run` (from `job_list`), to triage its results.
    #[serde(default)]
    job_id: Option<String>,
    /// The project to test when there is no job yet, e.g. `/work/my-project`.
    #[serde(default)]
    path: Option<String>,
}

fn triage_test_run(router: Router, args: serde_json::Value) -> ProtocolFuture<PromptOutput> {
    Box::pin(async move {
        let a: TriageArgs = parse_params(args)?;
        let ask = "Triage these test results: group the failures by likely cause (one root cause often fails \
                   many tests), point at the file and line to look at first, say which failures look flaky or \
                   environmental, and propose the smallest next step for each group. Then rerun only the failed \
                   tests with `test_rerun_failed` to confirm a fix.";
        let Some(job_id) = a.job_id.filter(|j| !j.trim().is_empty()) else {
            let Some(path) = a.path.filter(|p| !p.trim().is_empty()) else {
                return Err(ToolError::invalid_argument(
                    "job_id",
                    "give the job_id of a test run, or the path of a project to test",
                ));
            };
            let text =
                format!("Run the tests of `{path}` with `test_run` ({{\"path\": {path:?}}}), then: {ask}");
            return Ok(PromptOutput {
                description: Some(format!("Test triage: {path}")),
                messages: vec![PromptMessage::user(text)],
            });
        };
        let job = router.call_now("job_status", serde_json::json!({ "job_id": job_id })).await?;
        let resource = ResourceBody::json(format!("job://{job_id}"), &job);
        Ok(PromptOutput {
            description: Some(format!("Test triage: job {job_id}")),
            messages: vec![
                PromptMessage { role: Role::User, content: Content::Resource { resource } },
                PromptMessage::user(ask),
            ],
        })
    })
}

inventory::submit! { PromptDescriptor {
    name: "triage_test_run",
    title: "Triage a failing test run",
    description: "Groups a test run's failures by likely cause and proposes next steps; embeds the run's \
                  structured results when given its job id.",
    arguments: schema_for::<TriageArgs>,
    get: triage_test_run,
}}
