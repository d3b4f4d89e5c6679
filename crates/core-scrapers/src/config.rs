//! Configuration of the upstreams: base URLs, timeouts, rate limits, breaker thresholds, from the environment.
//!
//! `ScrapersConfig::default()` is production; `ScrapersConfig::from_env()` applies these overrides
//! (an invalid value is an `InvalidArgument` naming the variable, never silently ignored):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `PIPETTE_PUBMED_BASE` | `https://eutils.ncbi.nlm.nih.gov/entrez/eutils` | NCBI E-utilities base URL |
//! | `PIPETTE_CTGOV_BASE` | `https://clinicaltrials.gov/api/v2` | ClinicalTrials.gov API v2 base URL |
//! | `PIPETTE_UNIPROT_BASE` | `https://rest.uniprot.org` | UniProt REST base URL |
//! | `PIPETTE_CHEMBL_BASE` | `https://www.ebi.ac.uk/chembl/api/data` | ChEMBL REST base URL |
//! | `PIPETTE_EUROPEPMC_BASE` | `https://www.ebi.ac.uk/europepmc/webservices/rest` | Europe PMC REST (search, `{PMCID}/fullTextXML`) |
//! | `PIPETTE_PMC_BASE` | `https://pmc.ncbi.nlm.nih.gov` | PMC web pages (`/articles/PMC…/`) and the ID converter (`/tools/idconv/api/v1/articles/`); NCBI rate |
//! | `PIPETTE_PMC_OAI_BASE` | `https://pmc.ncbi.nlm.nih.gov/api/oai/v1/mh/` | the PMC OAI-PMH endpoint (`GetRecord`); NCBI rate |
//! | `PIPETTE_PMC_OA_BASE` | `https://www.ncbi.nlm.nih.gov/pmc/utils/oa/oa.fcgi` | the PMC OA web service; NCBI rate |
//! | `PIPETTE_PMC_S3_BASE` | `https://pmc-oa-opendata.s3.amazonaws.com` | the PMC Article Datasets bucket (`/PMC….N/PMC….N.xml`) |
//! | `PIPETTE_DOI_BASE` | `https://doi.org` | the DOI resolver; its redirects lead to publishers' landing pages |
//! | `PIPETTE_{EUROPEPMC,PMC_S3,DOI}_RATE` | 10, 10, 2 | requests/s (the PMC pages, OAI and OA service draw on `PIPETTE_PUBMED_RATE`: one NCBI limit) |
//! | `NCBI_API_KEY` | unset | sent as `api_key`; raises the PubMed rate to 10/s |
//! | `NCBI_EMAIL` | unset | sent as `email` to NCBI |
//! | `PIPETTE_NCBI_TOOL` | `pipette` | sent as `tool` to NCBI |
//! | `PIPETTE_USER_AGENT` | `pipette/<version> (+<repository>)` | User-Agent of every request |
//! | `PIPETTE_HTTP_CONNECT_TIMEOUT_MS` | 10000 | TCP + TLS connect timeout |
//! | `PIPETTE_HTTP_READ_TIMEOUT_MS` | 30000 | longest silence while reading (an outer net: the per-upstream budgets below are tighter) |
//! | `PIPETTE_HTTP_TOTAL_TIMEOUT_MS` | 60000 | one attempt, headers and body (an outer net, as above) |
//! | `PIPETTE_{PUBMED,CTGOV,UNIPROT,CHEMBL}_FIRST_BYTE_MS` | 8000, 5000, 5000, 10000 | one attempt's budget from sending (connect included) to the response headers |
//! | `PIPETTE_{PUBMED,CTGOV,UNIPROT,CHEMBL}_BODY_MS` | 20000, 10000, 15000, 15000 | one attempt's budget from the headers to the end of the body |
//! | `PIPETTE_{PUBMED,CTGOV,UNIPROT,CHEMBL}_HEDGE_MS` | 500, 300, 300, 500 | floor of the hedge delay: an attempt without an answer after max(floor, p95 of the recent answers) gets a second one beside it (until 8 answers are seen: max(floor, 1 s)); 0 = no hedging |
//! | `PIPETTE_HTTP_MAX_BODY_BYTES` | 16777216 | body cap (16 MiB), checked while streaming |
//! | `PIPETTE_HTTP_RETRY_ATTEMPTS` | 4 | attempts in all (1 = no retry) |
//! | `PIPETTE_HTTP_RETRY_BASE_MS` | 100 | first backoff delay when the upstream gives no `Retry-After` (exponential, equal jitter: ½–1 × the step) |
//! | `PIPETTE_HTTP_RETRY_MAX_DELAY_MS` | 2000 | largest backoff step |
//! | `PIPETTE_HTTP_RETRY_DEADLINE_MS` | 30000 | the call's overall deadline: no attempt starts after it, attempts still running are abandoned at it |
//! | `PIPETTE_HTTP_RETRY_AFTER_CAP_MS` | 30000 | longest `Retry-After` honoured; a longer one, or one past the deadline, ends the call as `RateLimited` |
//! | `PIPETTE_PUBMED_RATE` | 3 (10 with `NCBI_API_KEY`) | requests/s to NCBI (0 = unlimited) |
//! | `PIPETTE_CTGOV_RATE` | 10 | requests/s to ClinicalTrials.gov |
//! | `PIPETTE_UNIPROT_RATE` | 10 | requests/s to UniProt |
//! | `PIPETTE_CHEMBL_RATE` | 5 | requests/s to ChEMBL |
//! | `PIPETTE_BREAKER_THRESHOLD` | 5 | consecutive *calls* that failed after all their retries (5xx, timeouts, connection failures, error pages) open a circuit; bad input, 4xx and 429 never count. Until issue 17 it counted single attempts |
//! | `PIPETTE_BREAKER_COOLDOWN_MS` | 30000 | open time before one probe call is let through |
//! | `PIPETTE_PUBMED_CACHE_TTL_SECS` | 21600 | cache TTL of PubMed answers (0 = no caching) |
//! | `PIPETTE_CTGOV_CACHE_TTL_SECS` | 3600 | cache TTL of ClinicalTrials.gov answers |
//! | `PIPETTE_UNIPROT_CACHE_TTL_SECS` | 86400 | cache TTL of UniProt answers |
//! | `PIPETTE_CHEMBL_CACHE_TTL_SECS` | 86400 | cache TTL of ChEMBL answers |
//! | `REDIS_URL` | unset | when set, the rate limits and circuit breakers are shared by every process on this Redis (issue 11); unreachable → local ones until it answers again |
//! | `PIPETTE_CACHE_NAMESPACE` | `pipette` | key prefix of the shared limits (`<ns>:limits:…`), as of the cache |

use std::fmt;
use std::time::Duration;

use crate::error::ScrapeError;
use crate::http::Service;

/// Everything the HTTP layer and the scrapers need to know.
#[derive(Debug, Clone)]
pub struct ScrapersConfig {
    pub pubmed: UpstreamConfig,
    pub ctgov: UpstreamConfig,
    pub uniprot: UpstreamConfig,
    pub chembl: UpstreamConfig,
    /// Europe PMC REST (search, full text XML).
    pub europepmc: UpstreamConfig,
    /// PMC web pages and the ID converter (NCBI: its requests draw on the PubMed rate).
    pub pmc: UpstreamConfig,
    /// The PMC OAI-PMH endpoint (NCBI; budgets and cache TTL of `pmc`).
    pub pmc_oai_base: String,
    /// The PMC OA web service (NCBI; budgets and cache TTL of `pmc`).
    pub pmc_oa_base: String,
    /// The PMC Article Datasets bucket.
    pub pmc_s3: UpstreamConfig,
    /// The DOI resolver and the landing pages it redirects to.
    pub doi: UpstreamConfig,
    /// Sent to NCBI as `api_key`.
    pub ncbi_api_key: Option<Secret>,
    /// Sent to NCBI as `email`.
    pub ncbi_email: Option<String>,
    /// Sent to NCBI as `tool`.
    pub ncbi_tool: String,
    pub user_agent: String,
    pub timeouts: Timeouts,
    /// Body cap in bytes, checked while streaming.
    pub max_body_bytes: u64,
    pub retry: RetryConfig,
    pub breaker: BreakerConfig,
    /// Redis shared by every process for the rate limits and breakers (`REDIS_URL`); `None` = local.
    pub redis_url: Option<Secret>,
    /// Key prefix of the shared limits (`PIPETTE_CACHE_NAMESPACE`).
    pub namespace: String,
}

/// One upstream's base URL, rate, cache TTL and attempt budgets.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamConfig {
    /// Base URL without a trailing slash.
    pub base_url: String,
    /// Requests per second (no bursts); 0 = unlimited.
    pub rate_per_second: f64,
    /// How long answers stay cached; zero disables caching.
    pub cache_ttl: Duration,
    /// One attempt's budget from sending (connect included) to the response headers.
    pub first_byte: Duration,
    /// One attempt's budget from the response headers to the end of the body.
    pub body: Duration,
    /// Floor of the hedge delay (the delay follows the recent p95 above it); zero disables hedging.
    pub hedge_floor: Duration,
}

/// Timeouts of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub total: Duration,
}

/// Retries (429, 5xx, connection failures, timeouts, HTML pages only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfig {
    /// Attempts in all, at least 1.
    pub attempts: u32,
    /// First backoff step when the upstream gives no `Retry-After`.
    pub base_delay: Duration,
    /// Largest backoff step.
    pub max_delay: Duration,
    /// The call's overall deadline: no attempt starts after it, and attempts still running are abandoned.
    pub deadline: Duration,
    /// Longest `Retry-After` honoured.
    pub retry_after_cap: Duration,
}

/// Circuit breaker thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive calls that failed after all their retries that open the circuit (at least 1).
    pub threshold: u32,
    /// How long it stays open before a probe.
    pub cooldown: Duration,
}

/// A secret string whose `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

const NCBI_RATE: f64 = 3.0;
const NCBI_RATE_WITH_KEY: f64 = 10.0;

impl Default for ScrapersConfig {
    fn default() -> Self {
        Self {
            pubmed: UpstreamConfig {
                base_url: "https://eutils.ncbi.nlm.nih.gov/entrez/eutils".to_owned(),
                rate_per_second: NCBI_RATE,
                cache_ttl: Duration::from_secs(6 * 3600),
                // efetch of a few hundred records takes seconds to start and to stream.
                first_byte: Duration::from_secs(8),
                body: Duration::from_secs(20),
                // At 3 requests/s a hedge costs a third of a second of the rate: hedge later.
                hedge_floor: Duration::from_millis(500),
            },
            ctgov: UpstreamConfig {
                base_url: "https://clinicaltrials.gov/api/v2".to_owned(),
                rate_per_second: 10.0,
                cache_ttl: Duration::from_secs(3600),
                first_byte: Duration::from_secs(5),
                body: Duration::from_secs(10),
                hedge_floor: Duration::from_millis(300),
            },
            uniprot: UpstreamConfig {
                base_url: "https://rest.uniprot.org".to_owned(),
                rate_per_second: 10.0,
                cache_ttl: Duration::from_secs(24 * 3600),
                first_byte: Duration::from_secs(5),
                body: Duration::from_secs(15),
                hedge_floor: Duration::from_millis(300),
            },
            chembl: UpstreamConfig {
                base_url: "https://www.ebi.ac.uk/chembl/api/data".to_owned(),
                rate_per_second: 5.0,
                cache_ttl: Duration::from_secs(24 * 3600),
                // ChEMBL is the slowest of the four to start answering.
                first_byte: Duration::from_secs(10),
                body: Duration::from_secs(15),
                hedge_floor: Duration::from_millis(500),
            },
            europepmc: UpstreamConfig {
                base_url: "https://www.ebi.ac.uk/europepmc/webservices/rest".to_owned(),
                rate_per_second: 10.0,
                cache_ttl: Duration::from_secs(24 * 3600),
                first_byte: Duration::from_secs(8),
                body: Duration::from_secs(20),
                hedge_floor: Duration::from_millis(500),
            },
            pmc: UpstreamConfig {
                base_url: "https://pmc.ncbi.nlm.nih.gov".to_owned(),
                rate_per_second: NCBI_RATE,
                cache_ttl: Duration::from_secs(24 * 3600),
                first_byte: Duration::from_secs(8),
                body: Duration::from_secs(20),
                hedge_floor: Duration::from_millis(500),
            },
            pmc_oai_base: "https://pmc.ncbi.nlm.nih.gov/api/oai/v1/mh".to_owned(),
            pmc_oa_base: "https://www.ncbi.nlm.nih.gov/pmc/utils/oa/oa.fcgi".to_owned(),
            pmc_s3: UpstreamConfig {
                base_url: "https://pmc-oa-opendata.s3.amazonaws.com".to_owned(),
                rate_per_second: 10.0,
                cache_ttl: Duration::from_secs(24 * 3600),
                first_byte: Duration::from_secs(5),
                body: Duration::from_secs(20),
                hedge_floor: Duration::from_millis(500),
            },
            doi: UpstreamConfig {
                base_url: "https://doi.org".to_owned(),
                // Publishers' sites are not APIs: ask gently.
                rate_per_second: 2.0,
                cache_ttl: Duration::from_secs(24 * 3600),
                first_byte: Duration::from_secs(10),
                body: Duration::from_secs(20),
                hedge_floor: Duration::ZERO,
            },
            ncbi_api_key: None,
            ncbi_email: None,
            ncbi_tool: "pipette".to_owned(),
            user_agent: format!("pipette/{} (+{})", env!("CARGO_PKG_VERSION"), env!("CARGO_PKG_REPOSITORY")),
            timeouts: Timeouts {
                connect: Duration::from_secs(10),
                read: Duration::from_secs(30),
                total: Duration::from_secs(60),
            },
            max_body_bytes: 16 * 1024 * 1024,
            retry: RetryConfig {
                attempts: 4,
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_secs(2),
                deadline: Duration::from_secs(30),
                retry_after_cap: Duration::from_secs(30),
            },
            breaker: BreakerConfig { threshold: 5, cooldown: Duration::from_secs(30) },
            redis_url: None,
            namespace: "pipette".to_owned(),
        }
    }
}

impl ScrapersConfig {
    /// Production defaults with the `PIPETTE_*` / `NCBI_*` overrides of the process environment.
    pub fn from_env() -> Result<Self, ScrapeError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Production defaults with overrides read through `lookup` (the environment, a config file, a test map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ScrapeError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let mut c = Self::default();

        for (name, upstream) in [
            ("PUBMED", &mut c.pubmed),
            ("CTGOV", &mut c.ctgov),
            ("UNIPROT", &mut c.uniprot),
            ("CHEMBL", &mut c.chembl),
            ("EUROPEPMC", &mut c.europepmc),
            ("PMC", &mut c.pmc),
            ("PMC_S3", &mut c.pmc_s3),
            ("DOI", &mut c.doi),
        ] {
            let var = format!("PIPETTE_{name}_BASE");
            if let Some(v) = get(&var) {
                upstream.base_url = base_url(&var, &v)?;
            }
            let var = format!("PIPETTE_{name}_RATE");
            if let Some(v) = get(&var) {
                upstream.rate_per_second = number::<f64>(&var, &v)?;
                if !upstream.rate_per_second.is_finite() || upstream.rate_per_second < 0.0 {
                    return Err(ScrapeError::invalid(var, "must be a number ≥ 0 (0 = unlimited)"));
                }
            } else if name == "PUBMED" && get("NCBI_API_KEY").is_some() {
                upstream.rate_per_second = NCBI_RATE_WITH_KEY;
            }
            let var = format!("PIPETTE_{name}_CACHE_TTL_SECS");
            if let Some(v) = get(&var) {
                upstream.cache_ttl = Duration::from_secs(number(&var, &v)?);
            }
            for (suffix, slot) in [
                ("FIRST_BYTE_MS", &mut upstream.first_byte),
                ("BODY_MS", &mut upstream.body),
                ("HEDGE_MS", &mut upstream.hedge_floor),
            ] {
                let var = format!("PIPETTE_{name}_{suffix}");
                if let Some(v) = get(&var) {
                    *slot = Duration::from_millis(number(&var, &v)?);
                }
            }
        }

        for (var, slot) in
            [("PIPETTE_PMC_OAI_BASE", &mut c.pmc_oai_base), ("PIPETTE_PMC_OA_BASE", &mut c.pmc_oa_base)]
        {
            if let Some(v) = get(var) {
                *slot = base_url(var, &v)?;
            }
        }
        c.ncbi_api_key = get("NCBI_API_KEY").map(Secret::new);
        c.redis_url = get("REDIS_URL").map(Secret::new);
        if let Some(v) = get("PIPETTE_CACHE_NAMESPACE") {
            c.namespace = v;
        }
        c.ncbi_email = get("NCBI_EMAIL");
        if let Some(v) = get("PIPETTE_NCBI_TOOL") {
            c.ncbi_tool = v;
        }
        if let Some(v) = get("PIPETTE_USER_AGENT") {
            c.user_agent = v;
        }

        let ms = |name: &str, slot: &mut Duration| -> Result<(), ScrapeError> {
            if let Some(v) = get(name) {
                *slot = Duration::from_millis(number(name, &v)?);
            }
            Ok(())
        };
        ms("PIPETTE_HTTP_CONNECT_TIMEOUT_MS", &mut c.timeouts.connect)?;
        ms("PIPETTE_HTTP_READ_TIMEOUT_MS", &mut c.timeouts.read)?;
        ms("PIPETTE_HTTP_TOTAL_TIMEOUT_MS", &mut c.timeouts.total)?;
        ms("PIPETTE_HTTP_RETRY_BASE_MS", &mut c.retry.base_delay)?;
        ms("PIPETTE_HTTP_RETRY_MAX_DELAY_MS", &mut c.retry.max_delay)?;
        ms("PIPETTE_HTTP_RETRY_DEADLINE_MS", &mut c.retry.deadline)?;
        ms("PIPETTE_HTTP_RETRY_AFTER_CAP_MS", &mut c.retry.retry_after_cap)?;
        ms("PIPETTE_BREAKER_COOLDOWN_MS", &mut c.breaker.cooldown)?;
        if let Some(v) = get("PIPETTE_HTTP_MAX_BODY_BYTES") {
            c.max_body_bytes = number("PIPETTE_HTTP_MAX_BODY_BYTES", &v)?;
        }
        if let Some(v) = get("PIPETTE_HTTP_RETRY_ATTEMPTS") {
            c.retry.attempts = number("PIPETTE_HTTP_RETRY_ATTEMPTS", &v)?;
        }
        if let Some(v) = get("PIPETTE_BREAKER_THRESHOLD") {
            c.breaker.threshold = number("PIPETTE_BREAKER_THRESHOLD", &v)?;
        }
        c.validate()?;
        Ok(c)
    }

    /// Checks the values that cannot work (zero timeouts, zero attempts, malformed base URLs).
    pub fn validate(&self) -> Result<(), ScrapeError> {
        for (name, upstream) in [
            ("PIPETTE_PUBMED_BASE", &self.pubmed),
            ("PIPETTE_CTGOV_BASE", &self.ctgov),
            ("PIPETTE_UNIPROT_BASE", &self.uniprot),
            ("PIPETTE_CHEMBL_BASE", &self.chembl),
            ("PIPETTE_EUROPEPMC_BASE", &self.europepmc),
            ("PIPETTE_PMC_BASE", &self.pmc),
            ("PIPETTE_PMC_S3_BASE", &self.pmc_s3),
            ("PIPETTE_DOI_BASE", &self.doi),
        ] {
            base_url(name, &upstream.base_url)?;
            let service = name.trim_start_matches("PIPETTE_").trim_end_matches("_BASE");
            for (what, value) in [("FIRST_BYTE_MS", upstream.first_byte), ("BODY_MS", upstream.body)] {
                if value.is_zero() {
                    return Err(ScrapeError::invalid(
                        format!("PIPETTE_{service}_{what}"),
                        "must be greater than 0",
                    ));
                }
            }
        }
        base_url("PIPETTE_PMC_OAI_BASE", &self.pmc_oai_base)?;
        base_url("PIPETTE_PMC_OA_BASE", &self.pmc_oa_base)?;
        let positive = [
            ("PIPETTE_HTTP_CONNECT_TIMEOUT_MS", self.timeouts.connect),
            ("PIPETTE_HTTP_READ_TIMEOUT_MS", self.timeouts.read),
            ("PIPETTE_HTTP_TOTAL_TIMEOUT_MS", self.timeouts.total),
            ("PIPETTE_HTTP_RETRY_DEADLINE_MS", self.retry.deadline),
        ];
        for (name, value) in positive {
            if value.is_zero() {
                return Err(ScrapeError::invalid(name, "must be greater than 0"));
            }
        }
        if self.retry.attempts == 0 {
            return Err(ScrapeError::invalid(
                "PIPETTE_HTTP_RETRY_ATTEMPTS",
                "must be at least 1 (1 = no retry)",
            ));
        }
        if self.breaker.threshold == 0 {
            return Err(ScrapeError::invalid("PIPETTE_BREAKER_THRESHOLD", "must be at least 1"));
        }
        if self.max_body_bytes == 0 {
            return Err(ScrapeError::invalid("PIPETTE_HTTP_MAX_BODY_BYTES", "must be greater than 0"));
        }
        Ok(())
    }

    /// The settings of one upstream.
    pub fn upstream(&self, service: Service) -> &UpstreamConfig {
        match service {
            Service::PubMed => &self.pubmed,
            Service::ClinicalTrials => &self.ctgov,
            Service::UniProt => &self.uniprot,
            Service::Chembl => &self.chembl,
            Service::EuropePmc => &self.europepmc,
            Service::Pmc => &self.pmc,
            Service::PmcDatasets => &self.pmc_s3,
            Service::Doi => &self.doi,
        }
    }

    /// Points the four upstreams at these base URLs (for example a local test server).
    pub fn with_base_urls(mut self, pubmed: &str, ctgov: &str, uniprot: &str, chembl: &str) -> Self {
        self.pubmed.base_url = pubmed.trim_end_matches('/').to_owned();
        self.ctgov.base_url = ctgov.trim_end_matches('/').to_owned();
        self.uniprot.base_url = uniprot.trim_end_matches('/').to_owned();
        self.chembl.base_url = chembl.trim_end_matches('/').to_owned();
        self
    }

    /// Points the full-text upstreams at one server (for example a local test server), each under its own
    /// prefix: `/europepmc`, `/pmc`, `/oai`, `/oa`, `/s3`, `/doi`.
    pub fn with_fulltext_base(mut self, base: &str) -> Self {
        let base = base.trim_end_matches('/');
        self.europepmc.base_url = format!("{base}/europepmc");
        self.pmc.base_url = format!("{base}/pmc");
        self.pmc_oai_base = format!("{base}/oai");
        self.pmc_oa_base = format!("{base}/oa");
        self.pmc_s3.base_url = format!("{base}/s3");
        self.doi.base_url = format!("{base}/doi");
        self
    }
}

fn base_url(name: &str, value: &str) -> Result<String, ScrapeError> {
    let parsed = url::Url::parse(value)
        .map_err(|err| ScrapeError::invalid(name, format!("{value:?} is not a URL: {err}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(ScrapeError::invalid(name, format!("{value:?} must be an http(s) URL with a host")));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(ScrapeError::invalid(name, format!("{value:?} must not carry a query or fragment")));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ScrapeError>
where
    T::Err: fmt::Display,
{
    value
        .parse::<T>()
        .map_err(|err| ScrapeError::invalid(name, format!("{value:?} is not a valid number: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<ScrapersConfig, ScrapeError> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        ScrapersConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_production() {
        let c = config(&[]).expect("defaults");
        assert_eq!(c.pubmed.base_url, "https://eutils.ncbi.nlm.nih.gov/entrez/eutils");
        assert_eq!(c.ctgov.base_url, "https://clinicaltrials.gov/api/v2");
        assert_eq!(c.uniprot.base_url, "https://rest.uniprot.org");
        assert_eq!(c.chembl.base_url, "https://www.ebi.ac.uk/chembl/api/data");
        assert_eq!(c.pubmed.rate_per_second, 3.0);
        assert_eq!(c.europepmc.base_url, "https://www.ebi.ac.uk/europepmc/webservices/rest");
        assert_eq!(c.pmc.base_url, "https://pmc.ncbi.nlm.nih.gov");
        assert_eq!(c.doi.base_url, "https://doi.org");
        assert_eq!(c.max_body_bytes, 16 * 1024 * 1024);
        assert!(c.user_agent.starts_with("pipette/"));
    }

    #[test]
    fn api_key_raises_the_ncbi_rate_unless_set() {
        let c = config(&[("NCBI_API_KEY", "k")]).expect("key");
        assert_eq!(c.pubmed.rate_per_second, 10.0);
        assert_eq!(c.ncbi_api_key.as_ref().map(Secret::expose), Some("k"));
        assert!(!format!("{c:?}").contains("\"k\""));
        let c = config(&[("NCBI_API_KEY", "k"), ("PIPETTE_PUBMED_RATE", "5")]).expect("rate");
        assert_eq!(c.pubmed.rate_per_second, 5.0);
    }

    #[test]
    fn overrides_apply_and_bad_values_name_the_variable() {
        let c = config(&[
            ("PIPETTE_CTGOV_BASE", "http://127.0.0.1:9/ctgov/"),
            ("PIPETTE_HTTP_TOTAL_TIMEOUT_MS", "1500"),
            ("PIPETTE_CHEMBL_CACHE_TTL_SECS", "0"),
        ])
        .expect("overrides");
        assert_eq!(c.ctgov.base_url, "http://127.0.0.1:9/ctgov");
        assert_eq!(c.timeouts.total, Duration::from_millis(1500));
        assert_eq!(c.chembl.cache_ttl, Duration::ZERO);
        let c = config(&[("PIPETTE_CTGOV_FIRST_BYTE_MS", "700"), ("PIPETTE_UNIPROT_HEDGE_MS", "0")])
            .expect("budgets");
        assert_eq!(c.ctgov.first_byte, Duration::from_millis(700));
        assert_eq!(c.uniprot.hedge_floor, Duration::ZERO, "0 = no hedging");
        assert_eq!(c.pubmed.first_byte, ScrapersConfig::default().pubmed.first_byte);
        let c = config(&[
            ("PIPETTE_EUROPEPMC_BASE", "http://127.0.0.1:9/epmc/"),
            ("PIPETTE_PMC_BASE", "http://127.0.0.1:9/pmc"),
            ("PIPETTE_PMC_OAI_BASE", "http://127.0.0.1:9/oai/oai.cgi"),
            ("PIPETTE_PMC_OA_BASE", "http://127.0.0.1:9/oa/oa.fcgi"),
            ("PIPETTE_PMC_S3_BASE", "http://127.0.0.1:9/s3"),
            ("PIPETTE_DOI_BASE", "http://127.0.0.1:9/doi"),
        ])
        .expect("full-text bases");
        assert_eq!(c.europepmc.base_url, "http://127.0.0.1:9/epmc");
        assert_eq!(c.pmc_oai_base, "http://127.0.0.1:9/oai/oai.cgi");
        assert_eq!(c.pmc_oa_base, "http://127.0.0.1:9/oa/oa.fcgi");
        assert_eq!(
            (c.pmc.base_url.as_str(), c.pmc_s3.base_url.as_str()),
            ("http://127.0.0.1:9/pmc", "http://127.0.0.1:9/s3")
        );
        assert_eq!(c.doi.base_url, "http://127.0.0.1:9/doi");

        for (var, value) in [
            ("PIPETTE_PUBMED_BASE", "not a url"),
            ("PIPETTE_HTTP_RETRY_ATTEMPTS", "0"),
            ("PIPETTE_UNIPROT_RATE", "-1"),
            ("PIPETTE_HTTP_READ_TIMEOUT_MS", "soon"),
            ("PIPETTE_CTGOV_FIRST_BYTE_MS", "0"),
            ("PIPETTE_PUBMED_HEDGE_MS", "-5"),
            ("PIPETTE_HTTP_RETRY_DEADLINE_MS", "0"),
            ("PIPETTE_PMC_OAI_BASE", "ftp://x"),
            ("PIPETTE_DOI_BASE", "doi.org"),
        ] {
            match config(&[(var, value)]) {
                Err(ScrapeError::InvalidArgument { name, .. }) => assert_eq!(name, var),
                other => panic!("{var}={value}: expected InvalidArgument, got {other:?}"),
            }
        }
    }
}
