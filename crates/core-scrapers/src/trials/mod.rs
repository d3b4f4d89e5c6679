//! ClinicalTrials.gov API v2: search with paging, single-trial fetch, eligibility parsing.
