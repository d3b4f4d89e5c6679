//! `pipette trials …`: `trials_search`, `trial_get`, `trials_match` and `trials_match_batch` through the router.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::face::{Face, args};

/// Where to look: `--lat`, `--lon` and `--radius` together.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct GeoArgs {
    /// Latitude of the point (with --lon and --radius).
    #[arg(long, allow_negative_numbers = true, requires_all = ["lon", "radius"])]
    lat: Option<f64>,
    /// Longitude of the point.
    #[arg(long, allow_negative_numbers = true, requires_all = ["lat", "radius"])]
    lon: Option<f64>,
    /// Radius around the point.
    #[arg(long, requires_all = ["lat", "lon"])]
    radius: Option<f64>,
    /// Unit of the radius: mi | km.
    #[arg(long, default_value = "mi")]
    unit: String,
}

impl GeoArgs {
    /// The tools' `geo` argument: `lat,lon,radius<unit>`.
    fn geo(&self) -> Option<String> {
        let (lat, lon, radius) = (self.lat?, self.lon?, self.radius?);
        Some(format!("{lat},{lon},{radius}{}", self.unit))
    }
}

/// The filters and limits of `match` and `match-batch`.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct MatchArgs {
    /// Condition or disease, e.g. `non-small cell lung cancer`.
    #[arg(long, short = 'c')]
    condition: Option<String>,
    /// Status to keep (repeatable or comma-separated); default RECRUITING,NOT_YET_RECRUITING.
    #[arg(long, value_delimiter = ',')]
    status: Vec<String>,
    /// Any status (no status filter).
    #[arg(long, conflicts_with = "status")]
    any_status: bool,
    /// Phase to keep (repeatable or comma-separated): 1, 2, 3, 4, early1, NA, 1/2 …
    #[arg(long, value_delimiter = ',')]
    phase: Vec<String>,
    /// Location as text: city, state, country or facility.
    #[arg(long)]
    location: Option<String>,
    #[command(flatten)]
    geo: GeoArgs,
    /// Candidate studies examined per mutation (1–200).
    #[arg(long)]
    max_candidates: Option<u32>,
    /// Entries shown in matches, and in excluded (1–200).
    #[arg(long, short = 'n')]
    max_results: Option<u32>,
    /// How much the text shows: concise (default) | detailed.
    #[arg(long)]
    format: Option<String>,
    /// Also keep the matched trials in this local index (see `pipette index search`).
    #[arg(long, value_name = "INDEX")]
    index: Option<String>,
}

impl MatchArgs {
    /// The arguments besides the mutation(s).
    fn arguments(self) -> serde_json::Map<String, Value> {
        let status =
            if self.any_status { Some(Vec::new()) } else { (!self.status.is_empty()).then_some(self.status) };
        let value = json!({
            "condition": self.condition, "status": status, "phase": (!self.phase.is_empty()).then_some(self.phase), "location": self.location,
            "geo": self.geo.geo(), "max_candidates": self.max_candidates, "max_results": self.max_results,
            "response_format": self.format, "index": self.index,
        });
        match args(value) {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }
}

#[derive(clap::Subcommand, Debug)]
pub(crate) enum TrialsCmd {
    /// Search ClinicalTrials.gov (follows pages up to --max-results).
    Search {
        /// Condition or disease (Essie syntax), e.g. `melanoma`.
        #[arg(long, short = 'c')]
        condition: Option<String>,
        /// Other terms (Essie syntax), e.g. `BRAF V600E`.
        #[arg(long, short = 't')]
        term: Option<String>,
        /// Intervention, e.g. `pembrolizumab`.
        #[arg(long, short = 'i')]
        intervention: Option<String>,
        /// Sponsor or collaborator.
        #[arg(long)]
        sponsor: Option<String>,
        /// Location as text: city, state, country or facility.
        #[arg(long)]
        location: Option<String>,
        #[command(flatten)]
        geo: GeoArgs,
        /// Status to keep (repeatable or comma-separated), e.g. `recruiting`.
        #[arg(long, value_delimiter = ',')]
        status: Vec<String>,
        /// Phase to keep (repeatable or comma-separated), e.g. `2` or `phase3`.
        #[arg(long, value_delimiter = ',')]
        phase: Vec<String>,
        /// Studies per upstream page (1–1000).
        #[arg(long)]
        page_size: Option<u32>,
        /// Continue from the token a previous search printed.
        #[arg(long)]
        page_token: Option<String>,
        /// The most studies (1–1000; default 50).
        #[arg(long, short = 'n')]
        max_results: Option<u32>,
        /// How much the text shows: concise | detailed.
        #[arg(long, default_value = "concise")]
        format: String,
        /// Also keep the studies in this local index (see `pipette index search`).
        #[arg(long, value_name = "INDEX")]
        index: Option<String>,
    },
    /// Fetch one study by NCT number.
    Get {
        /// e.g. NCT06604689.
        nct_id: String,
        /// Sections besides the summary (repeatable or comma-separated): eligibility, locations, arms,
        /// outcomes, sponsor, dates; default all.
        #[arg(long = "section", value_delimiter = ',')]
        sections: Vec<String>,
        /// Only the sites in or near this place (city, state, country or facility), nearest first.
        #[arg(long)]
        location: Option<String>,
        #[command(flatten)]
        geo: GeoArgs,
        /// How much the text shows: concise | detailed.
        #[arg(long, default_value = "detailed")]
        format: String,
        /// The most locations.
        #[arg(long)]
        max_locations: Option<u32>,
        /// The most criteria per list.
        #[arg(long)]
        max_criteria: Option<u32>,
        /// The most characters of the raw criteria text (0 leaves it out).
        #[arg(long)]
        max_criteria_chars: Option<u32>,
        /// The most interventions.
        #[arg(long)]
        max_interventions: Option<u32>,
        /// The most arms.
        #[arg(long)]
        max_arms: Option<u32>,
        /// The most outcome measures.
        #[arg(long)]
        max_outcomes: Option<u32>,
    },
    /// Trials for one mutation, e.g. `pipette trials match EGFR L858R -c "lung cancer"`.
    Match {
        /// The mutation, e.g. `EGFR L858R`, `EGFR exon 19 deletion`, `ALK fusion`, `ERBB2 amplification`.
        #[arg(required = true, num_args = 1..)]
        mutation: Vec<String>,
        #[command(flatten)]
        args: MatchArgs,
    },
    /// Trials for several mutations at once (at most 50), e.g. `match-batch "EGFR L858R" "KRAS G12C"`.
    MatchBatch {
        /// The mutations, one per argument (quote each).
        mutations: Vec<String>,
        /// Read mutations from a file, one per line (`#` starts a comment).
        #[arg(long, short = 'f')]
        file: Option<PathBuf>,
        #[command(flatten)]
        args: MatchArgs,
    },
}

pub(crate) async fn run(face: &Face, cmd: TrialsCmd) -> anyhow::Result<()> {
    let (tool, arguments) = match cmd {
        TrialsCmd::Search {
            condition,
            term,
            intervention,
            sponsor,
            location,
            geo,
            status,
            phase,
            page_size,
            page_token,
            max_results,
            format,
            index,
        } => (
            "trials_search",
            json!({ "condition": condition, "term": term, "intervention": intervention, "sponsor": sponsor,
                    "location": location, "geo": geo.geo(), "status": status, "phase": phase,
                    "page_size": page_size, "page_token": page_token, "max_results": max_results,
                    "response_format": format, "index": index }),
        ),
        TrialsCmd::Get {
            nct_id,
            sections,
            location,
            geo,
            format,
            max_locations,
            max_criteria,
            max_criteria_chars,
            max_interventions,
            max_arms,
            max_outcomes,
        } => (
            "trial_get",
            json!({ "nct_id": nct_id, "sections": (!sections.is_empty()).then_some(sections),
                    "location": location, "geo": geo.geo(), "response_format": format,
                    "max_locations": max_locations, "max_criteria": max_criteria,
                    "max_criteria_chars": max_criteria_chars, "max_interventions": max_interventions,
                    "max_arms": max_arms, "max_outcomes": max_outcomes }),
        ),
        TrialsCmd::Match { mutation, args } => {
            let mut arguments = args.arguments();
            arguments.insert("mutation".into(), mutation.join(" ").into());
            ("trials_match", Value::Object(arguments))
        }
        TrialsCmd::MatchBatch { mut mutations, file, args } => {
            if let Some(path) = file {
                let text = std::fs::read_to_string(&path)
                    .map_err(|err| anyhow::anyhow!("--file: cannot read {}: {err}", path.display()))?;
                mutations.extend(
                    text.lines()
                        .map(|line| line.split('#').next().unwrap_or_default().trim())
                        .filter(|line| !line.is_empty())
                        .map(str::to_owned),
                );
            }
            let mut arguments = args.arguments();
            if arguments.remove("index").is_some() {
                anyhow::bail!("--index: `pipette trials match-batch` does not keep its results in an index");
            }
            arguments.insert("mutations".into(), mutations.into());
            ("trials_match_batch", Value::Object(arguments))
        }
    };
    face.run(tool, args(arguments)).await?;
    Ok(())
}
