//! Sites near a place: a place name matched against each site's city, state, country, postal code or
//! facility, or a radius around a point (haversine distance to the site's `geoPoint`).
//!
//! ClinicalTrials.gov filters studies by place (`query.locn`, `filter.geo`) but returns every site of a
//! study; this keeps the sites that answer "where can I take part near X", nearest first.

use crate::trials::model::{Location, Trial, Truncation};
use crate::trials::query::{DistanceUnit, GeoFilter, TrialStatus};

const EARTH_RADIUS_KM: f64 = 6371.0088;
const KM_PER_MILE: f64 = 1.609_344;

/// US states and territories by postal abbreviation, so that `Boston, MA` finds `Massachusetts`.
const US_STATES: [(&str, &str); 52] = [
    ("al", "alabama"),
    ("ak", "alaska"),
    ("az", "arizona"),
    ("ar", "arkansas"),
    ("ca", "california"),
    ("co", "colorado"),
    ("ct", "connecticut"),
    ("de", "delaware"),
    ("dc", "district of columbia"),
    ("fl", "florida"),
    ("ga", "georgia"),
    ("hi", "hawaii"),
    ("id", "idaho"),
    ("il", "illinois"),
    ("in", "indiana"),
    ("ia", "iowa"),
    ("ks", "kansas"),
    ("ky", "kentucky"),
    ("la", "louisiana"),
    ("me", "maine"),
    ("md", "maryland"),
    ("ma", "massachusetts"),
    ("mi", "michigan"),
    ("mn", "minnesota"),
    ("ms", "mississippi"),
    ("mo", "missouri"),
    ("mt", "montana"),
    ("ne", "nebraska"),
    ("nv", "nevada"),
    ("nh", "new hampshire"),
    ("nj", "new jersey"),
    ("nm", "new mexico"),
    ("ny", "new york"),
    ("nc", "north carolina"),
    ("nd", "north dakota"),
    ("oh", "ohio"),
    ("ok", "oklahoma"),
    ("or", "oregon"),
    ("pa", "pennsylvania"),
    ("ri", "rhode island"),
    ("sc", "south carolina"),
    ("sd", "south dakota"),
    ("tn", "tennessee"),
    ("tx", "texas"),
    ("ut", "utah"),
    ("vt", "vermont"),
    ("va", "virginia"),
    ("wa", "washington"),
    ("wv", "west virginia"),
    ("wi", "wisconsin"),
    ("wy", "wyoming"),
    ("pr", "puerto rico"),
];

/// Other names of countries as ClinicalTrials.gov spells them.
const COUNTRIES: [(&str, &[&str]); 4] = [
    ("united states", &["us", "usa", "u s", "u s a", "america"]),
    ("united kingdom", &["uk", "u k", "great britain", "britain", "england", "scotland", "wales"]),
    ("korea, republic of", &["south korea", "korea"]),
    ("netherlands", &["the netherlands", "holland"]),
];

/// Where a caller wants to take part: a place name, a radius around a point, or both (a site near either
/// counts).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Place {
    /// The place name's comma-separated parts, normalised (`Boston, MA` → `["boston", "ma"]`).
    parts: Vec<String>,
    /// Latitude, longitude and radius in km.
    point: Option<(f64, f64, f64)>,
    label: String,
}

impl Place {
    /// The place of a `location` text and a `geo` radius; `None` when neither is given.
    pub(crate) fn new(location: Option<&str>, geo: Option<GeoFilter>) -> Option<Place> {
        let location = location.map(str::trim).filter(|l| !l.is_empty());
        let parts: Vec<String> = location
            .map(|l| l.split([',', ';']).map(normalise).filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let point = geo.map(|g| {
            let km = match g.unit {
                DistanceUnit::Km => g.radius,
                DistanceUnit::Mi => g.radius * KM_PER_MILE,
            };
            (g.lat, g.lon, km)
        });
        if parts.is_empty() && point.is_none() {
            return None;
        }
        let radius = geo.map(|g| {
            let unit = match g.unit {
                DistanceUnit::Km => "km",
                DistanceUnit::Mi => "mi",
            };
            format!("{} {unit} of {},{}", g.radius, g.lat, g.lon)
        });
        let label = match (location, radius) {
            (Some(text), Some(radius)) => format!("{text} or within {radius}"),
            (Some(text), None) => text.to_owned(),
            (None, Some(radius)) => format!("within {radius}"),
            (None, None) => String::new(),
        };
        Some(Place { parts, point, label })
    }

    /// How the place reads in a sentence: `Boston, MA`, `within 50 mi of 42.36,-71.06`.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Whether `site` is in or near the place, and how far it is (km, when both points are known).
    fn near(&self, site: &Location) -> Option<Option<f64>> {
        let distance = match (self.point, site.lat, site.lon) {
            (Some((lat, lon, _)), Some(slat), Some(slon)) => Some(haversine_km(lat, lon, slat, slon)),
            _ => None,
        };
        let within = matches!((self.point, distance), (Some((_, _, radius)), Some(d)) if d <= radius);
        (within || self.named(site)).then_some(distance)
    }

    /// Whether each part of the place name is one of the site's fields (or an alias of it), or failing
    /// that, whether each of its words is among the site's words (`Boston MA`).
    fn named(&self, site: &Location) -> bool {
        if self.parts.is_empty() {
            return false;
        }
        let fields = site_fields(site);
        let words: Vec<&str> = fields.iter().flat_map(|f| f.split(' ')).collect();
        self.parts.iter().all(|part| {
            fields.iter().any(|field| contains_phrase(field, part))
                || part.split(' ').all(|word| words.contains(&word))
        })
    }
}

/// Lowercase words of letters and digits separated by single spaces.
fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_alphanumeric() { c.to_lowercase().next().unwrap_or(c) } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `phrase` is a run of whole words of `field`.
fn contains_phrase(field: &str, phrase: &str) -> bool {
    field == phrase
        || field.starts_with(&format!("{phrase} "))
        || field.ends_with(&format!(" {phrase}"))
        || field.contains(&format!(" {phrase} "))
}

/// The site's normalised fields, with the abbreviation of a US state and the other names of a country.
fn site_fields(site: &Location) -> Vec<String> {
    let mut fields: Vec<String> = [&site.facility, &site.city, &site.state, &site.zip, &site.country]
        .into_iter()
        .flatten()
        .map(|f| normalise(f))
        .collect();
    if let Some(state) = site.state.as_deref().map(normalise) {
        fields
            .extend(US_STATES.iter().filter(|(_, name)| *name == state).map(|(abbr, _)| (*abbr).to_owned()));
    }
    if let Some(country) = site.country.as_deref() {
        let country = country.to_lowercase();
        for (name, aliases) in COUNTRIES {
            if country == name {
                fields.extend(aliases.iter().map(|a| (*a).to_owned()));
            }
        }
    }
    fields
}

/// The great-circle distance between two points, in km.
pub(crate) fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// Keeps the sites of `trial` in or near `place`: nearest first (sites of unknown distance after those
/// of known distance), recruiting before others, at most `max` (`None`: all). Sets `locations_near`,
/// `distance_km`, and a note of the sites left out with the call that lists them; `how` names that call.
pub(crate) fn keep_near(trial: &mut Trial, place: &Place, max: Option<usize>, how: &str) {
    let total = trial.locations.len();
    let mut near: Vec<Location> = std::mem::take(&mut trial.locations)
        .into_iter()
        .filter_map(|mut site| {
            let distance = place.near(&site)?;
            site.distance_km = distance.map(|d| (d * 10.0).round() / 10.0);
            Some(site)
        })
        .collect();
    near.sort_by(|a, b| {
        let far = |l: &Location| l.distance_km.unwrap_or(f64::INFINITY);
        far(a)
            .total_cmp(&far(b))
            .then(TrialStatus::rank(a.status.as_deref()).cmp(&TrialStatus::rank(b.status.as_deref())))
    });
    let found = near.len();
    if let Some(max) = max {
        near.truncate(max);
    }
    let omitted = total - near.len();
    if omitted > 0 {
        let elsewhere = total - found;
        let more_near = found - near.len();
        let sites = |n: usize| if n == 1 { "site" } else { "sites" };
        let what = match (more_near, elsewhere) {
            (0, e) => format!("{e} {} elsewhere", sites(e)),
            (n, 0) => format!("{n} more {} near {}", sites(n), place.label()),
            (n, e) => format!("{n} more {} near {} and {e} elsewhere", sites(n), place.label()),
        };
        trial.truncated.push(Truncation {
            field: "locations".to_owned(),
            omitted: omitted as u64,
            hint: format!("{what} not listed: {how}"),
        });
    }
    trial.locations = near;
    trial.locations_near = Some(place.label().to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(facility: &str, city: &str, state: &str, country: &str, at: Option<(f64, f64)>) -> Location {
        Location {
            facility: Some(facility.into()),
            city: Some(city.into()),
            state: (!state.is_empty()).then(|| state.into()),
            country: Some(country.into()),
            status: Some("RECRUITING".into()),
            lat: at.map(|a| a.0),
            lon: at.map(|a| a.1),
            ..Location::default()
        }
    }

    fn sites() -> Vec<Location> {
        vec![
            site("Fudan University Cancer Center", "Shanghai", "Shanghai", "China", Some((31.22, 121.46))),
            site(
                "Dana-Farber Cancer Institute",
                "Boston",
                "Massachusetts",
                "United States",
                Some((42.337, -71.107)),
            ),
            site("Lahey Clinic", "Burlington", "Massachusetts", "United States", Some((42.505, -71.196))),
            site("Boston Medical Center", "Boston", "Massachusetts", "United States", None),
            site("New York-Presbyterian", "New York", "New York", "United States", Some((40.84, -73.94))),
            site("Royal Marsden", "London", "", "United Kingdom", Some((51.49, -0.17))),
        ]
    }

    /// The facilities kept for `location` / `geo`, with their distances.
    fn check(location: Option<&str>, geo: Option<GeoFilter>, expected: &[&str]) {
        let place = Place::new(location, geo).unwrap_or_else(|| panic!("a place"));
        let mut trial = Trial { nct_id: "NCT00000001".into(), locations: sites(), ..Trial::default() };
        keep_near(&mut trial, &place, None, "call trial_get");
        let got: Vec<String> = trial
            .locations
            .iter()
            .map(|l| match l.distance_km {
                Some(d) => format!("{} {d}", l.facility.as_deref().unwrap_or_default()),
                None => l.facility.clone().unwrap_or_default(),
            })
            .collect();
        assert_eq!(got, expected, "{location:?} {geo:?}");
    }

    #[test]
    fn place_names_match_city_state_country_and_facility() {
        check(Some("Boston"), None, &["Dana-Farber Cancer Institute", "Boston Medical Center"]);
        check(Some("Boston, MA"), None, &["Dana-Farber Cancer Institute", "Boston Medical Center"]);
        check(Some("boston ma"), None, &["Dana-Farber Cancer Institute", "Boston Medical Center"]);
        check(
            Some("Massachusetts"),
            None,
            &["Dana-Farber Cancer Institute", "Lahey Clinic", "Boston Medical Center"],
        );
        check(Some("New York"), None, &["New York-Presbyterian"]);
        check(Some("UK"), None, &["Royal Marsden"]);
        check(Some("Dana Farber"), None, &["Dana-Farber Cancer Institute"]);
        check(Some("Bost"), None, &[]);
    }

    #[test]
    fn a_radius_keeps_sites_within_it_nearest_first() {
        let boston = GeoFilter { lat: 42.3601, lon: -71.0589, radius: 30.0, unit: DistanceUnit::Mi };
        check(None, Some(boston), &["Dana-Farber Cancer Institute 4.7", "Lahey Clinic 19.7"]);
        let tight = GeoFilter { radius: 10.0, unit: DistanceUnit::Km, ..boston };
        check(None, Some(tight), &["Dana-Farber Cancer Institute 4.7"]);
        // A named site without coordinates still counts, after those of known distance.
        check(Some("Boston"), Some(tight), &["Dana-Farber Cancer Institute 4.7", "Boston Medical Center"]);
    }

    #[test]
    fn haversine_is_right_on_known_distances() {
        // Boston to New York: about 306 km; London to Paris: about 344 km.
        assert!((haversine_km(42.3601, -71.0589, 40.7128, -74.0060) - 306.1).abs() < 1.0);
        assert!((haversine_km(51.5074, -0.1278, 48.8566, 2.3522) - 343.6).abs() < 1.0);
        assert_eq!(haversine_km(10.0, 20.0, 10.0, 20.0), 0.0);
    }

    #[test]
    fn what_was_left_out_is_counted_with_the_call_that_lists_it() {
        let place = Place::new(Some("Massachusetts"), None).unwrap_or_else(|| panic!("a place"));
        let mut trial = Trial { nct_id: "NCT00000001".into(), locations: sites(), ..Trial::default() };
        keep_near(&mut trial, &place, Some(1), "call trial_get with nct_id NCT00000001");
        assert_eq!(trial.locations.len(), 1);
        assert_eq!(trial.locations_near.as_deref(), Some("Massachusetts"));
        let note = &trial.truncated[0];
        assert_eq!((note.field.as_str(), note.omitted), ("locations", 5));
        assert_eq!(
            note.hint,
            "2 more sites near Massachusetts and 3 elsewhere not listed: call trial_get with nct_id NCT00000001"
        );
        assert!(Place::new(Some("  "), None).is_none());
    }
}
