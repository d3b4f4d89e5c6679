//! `pipette trials …`: ClinicalTrials.gov search and fetch, mutation → trial matching (single and batch),
//! calling core-scrapers directly.

use std::path::PathBuf;

use core_scrapers::mutation::{self, MatchBatch, MatchFilters, MatchLimits};
use core_scrapers::trials::{
    self, DistanceUnit, GeoFilter, TrialCaps, TrialGetParams, TrialSearchParams, TrialSection,
};
use core_scrapers::{ResponseFormat, ScrapersConfig, http::Upstreams};

use crate::output::Output;

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
    /// Unit of the radius.
    #[arg(long, value_enum, default_value_t = UnitArg::Mi)]
    unit: UnitArg,
}

impl GeoArgs {
    fn filter(&self) -> Option<GeoFilter> {
        match (self.lat, self.lon, self.radius) {
            (Some(lat), Some(lon), Some(radius)) => {
                Some(GeoFilter { lat, lon, radius, unit: self.unit.into() })
            }
            _ => None,
        }
    }
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(crate) enum UnitArg {
    Mi,
    Km,
}

impl From<UnitArg> for DistanceUnit {
    fn from(u: UnitArg) -> DistanceUnit {
        match u {
            UnitArg::Mi => DistanceUnit::Mi,
            UnitArg::Km => DistanceUnit::Km,
        }
    }
}

/// How much the text shows (`--json` is always complete).
#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(crate) enum FormatArg {
    Concise,
    Detailed,
}

impl From<FormatArg> for ResponseFormat {
    fn from(f: FormatArg) -> ResponseFormat {
        match f {
            FormatArg::Concise => ResponseFormat::Concise,
            FormatArg::Detailed => ResponseFormat::Detailed,
        }
    }
}

#[derive(clap::ValueEnum, Debug, Clone, Copy)]
pub(crate) enum SectionArg {
    Eligibility,
    Locations,
    Arms,
    Outcomes,
    Sponsor,
    Dates,
}

impl From<SectionArg> for TrialSection {
    fn from(s: SectionArg) -> TrialSection {
        match s {
            SectionArg::Eligibility => TrialSection::Eligibility,
            SectionArg::Locations => TrialSection::Locations,
            SectionArg::Arms => TrialSection::Arms,
            SectionArg::Outcomes => TrialSection::Outcomes,
            SectionArg::Sponsor => TrialSection::Sponsor,
            SectionArg::Dates => TrialSection::Dates,
        }
    }
}

/// The filters of `match` and `match-batch`.
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
    #[arg(long, default_value_t = MatchLimits::default().max_candidates)]
    max_candidates: u32,
    /// Entries shown in matches, and in excluded (1–200).
    #[arg(long, short = 'n', default_value_t = MatchLimits::default().max_results)]
    max_results: u32,
    /// How much the text shows.
    #[arg(long, value_enum, default_value_t = FormatArg::Concise)]
    format: FormatArg,
}

impl MatchArgs {
    fn filters(&self) -> MatchFilters {
        let status = if self.any_status {
            Some(Vec::new())
        } else if self.status.is_empty() {
            None
        } else {
            Some(self.status.clone())
        };
        MatchFilters {
            status,
            phase: self.phase.clone(),
            condition: self.condition.clone(),
            location: self.location.clone(),
            geo: self.geo.filter(),
        }
    }

    fn limits(&self) -> MatchLimits {
        MatchLimits {
            max_candidates: self.max_candidates,
            max_results: self.max_results,
            response_format: self.format.into(),
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
        /// The most studies (1–1000).
        #[arg(long, short = 'n', default_value_t = trials::DEFAULT_MAX_RESULTS)]
        max_results: u32,
        /// How much the text shows.
        #[arg(long, value_enum, default_value_t = FormatArg::Concise)]
        format: FormatArg,
    },
    /// Fetch one study by NCT number.
    Get {
        /// e.g. NCT06604689.
        nct_id: String,
        /// Sections besides the summary (repeatable or comma-separated); default all.
        #[arg(long = "section", value_enum, value_delimiter = ',')]
        sections: Vec<SectionArg>,
        /// Only the sites in or near this place (city, state, country or facility), nearest first.
        #[arg(long)]
        location: Option<String>,
        #[command(flatten)]
        geo: GeoArgs,
        /// How much the text shows.
        #[arg(long, value_enum, default_value_t = FormatArg::Detailed)]
        format: FormatArg,
        /// The most locations.
        #[arg(long, default_value_t = TrialCaps::default().max_locations)]
        max_locations: u32,
        /// The most criteria per list.
        #[arg(long, default_value_t = TrialCaps::default().max_criteria)]
        max_criteria: u32,
        /// The most characters of the raw criteria text (0 leaves it out).
        #[arg(long, default_value_t = TrialCaps::default().max_criteria_chars)]
        max_criteria_chars: u32,
        /// The most interventions.
        #[arg(long, default_value_t = TrialCaps::default().max_interventions)]
        max_interventions: u32,
        /// The most arms.
        #[arg(long, default_value_t = TrialCaps::default().max_arms)]
        max_arms: u32,
        /// The most outcome measures.
        #[arg(long, default_value_t = TrialCaps::default().max_outcomes)]
        max_outcomes: u32,
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

/// The upstreams from the environment (`PIPETTE_*`) and the cache (`REDIS_URL` or in-process).
async fn upstreams() -> anyhow::Result<Upstreams> {
    let config = ScrapersConfig::from_env()?;
    let cache = core_cache::Cache::from_env().await?;
    Ok(Upstreams::new(&config, cache)?)
}

pub(crate) async fn run(cmd: TrialsCmd, out: &Output) -> anyhow::Result<()> {
    let upstreams = upstreams().await?;
    match cmd {
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
        } => {
            let params = TrialSearchParams {
                condition,
                term,
                intervention,
                sponsor,
                location,
                geo: geo.filter(),
                status,
                phase,
                page_size,
                page_token,
                max_results: Some(max_results),
                response_format: format.into(),
            };
            let bar = out.progress(None, "trials");
            let result = trials::trials_search(&upstreams, &params).await;
            bar.finish();
            let result = result?;
            out.emit(&result, || result.markdown(format.into()))
        }
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
        } => {
            let params = TrialGetParams {
                nct_id,
                sections: sections.into_iter().map(TrialSection::from).collect(),
                location,
                geo: geo.filter(),
                response_format: format.into(),
                caps: TrialCaps {
                    max_locations,
                    max_criteria,
                    max_criteria_chars,
                    max_interventions,
                    max_arms,
                    max_outcomes,
                },
            };
            let trial = trials::trial_get(&upstreams, &params).await?;
            out.emit(&trial, || trial.markdown(format.into()))
        }
        TrialsCmd::Match { mutation, args } => {
            let mutation = mutation.join(" ");
            let bar = out.progress(None, "match");
            let result = mutation::trials_match(
                &upstreams,
                &mutation,
                &args.filters(),
                &args.limits(),
                &bar.callback(),
            )
            .await;
            bar.finish();
            let result = result?;
            out.emit(&result, || result.summary_markdown.clone())
        }
        TrialsCmd::MatchBatch { mut mutations, file, args } => {
            if let Some(path) = file {
                let text = std::fs::read_to_string(&path)
                    .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?;
                mutations.extend(
                    text.lines()
                        .map(|line| line.split('#').next().unwrap_or_default().trim())
                        .filter(|line| !line.is_empty())
                        .map(str::to_owned),
                );
            }
            let bar = out.progress(Some(mutations.len() as u64), "batch");
            let result = mutation::trials_match_batch(
                &upstreams,
                &mutations,
                &args.filters(),
                &args.limits(),
                &bar.callback(),
            )
            .await;
            bar.finish();
            let result = result?;
            out.emit(&result, || render_batch(&result))
        }
    }
}

fn render_batch(b: &MatchBatch) -> String {
    let mut text = format!(
        "{} mutations: {} matched, {} failed ({} upstream requests)\n\n",
        b.results.len(),
        b.succeeded,
        b.failed,
        b.distinct_requests
    );
    text.push_str(&b.summary_markdown);
    text
}
