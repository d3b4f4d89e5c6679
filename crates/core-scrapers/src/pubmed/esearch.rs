//! The esearch parser: the JSON answer (`retmode=json`, what pipette asks for) and the XML one.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use crate::error::ScrapeError;
use crate::http::Service;
use crate::http::content::{self, Expect};

/// One page of esearch results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EsearchResult {
    /// Total number of matching records.
    pub count: u64,
    pub retstart: u64,
    pub retmax: u64,
    /// PMIDs of this page, in the requested order.
    pub ids: Vec<String>,
    /// How PubMed understood the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_translation: Option<String>,
    /// Phrases PubMed could not find (they were dropped from the query).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phrases_not_found: Vec<String>,
    /// Warnings and messages (ignored phrases, quoted phrases not found, output messages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_key: Option<String>,
}

#[derive(Deserialize)]
struct JsonAnswer {
    esearchresult: JsonResult,
}

#[derive(Deserialize)]
struct JsonResult {
    #[serde(default)]
    count: Option<String>,
    #[serde(default)]
    retmax: Option<String>,
    #[serde(default)]
    retstart: Option<String>,
    #[serde(default)]
    idlist: Vec<String>,
    #[serde(default)]
    querytranslation: Option<String>,
    #[serde(default)]
    errorlist: Option<JsonErrorList>,
    #[serde(default)]
    warninglist: Option<JsonWarningList>,
    #[serde(default, rename = "ERROR")]
    error: Option<String>,
    #[serde(default)]
    webenv: Option<String>,
    #[serde(default)]
    querykey: Option<String>,
}

#[derive(Deserialize, Default)]
struct JsonErrorList {
    #[serde(default)]
    phrasesnotfound: Vec<String>,
    #[serde(default)]
    fieldsnotfound: Vec<String>,
}

#[derive(Deserialize, Default)]
struct JsonWarningList {
    #[serde(default)]
    phrasesignored: Vec<String>,
    #[serde(default)]
    quotedphrasesnotfound: Vec<String>,
    #[serde(default)]
    outputmessages: Vec<String>,
}

/// Parses an esearch answer, JSON or XML (told apart by the first byte).
///
/// An answer that is an error (`{"error": …}`, an HTML page) is `UnexpectedContent`; an esearch `ERROR`
/// (PubMed rejected the query) is `InvalidArgument` naming `query`.
pub fn parse_esearch(body: &[u8]) -> Result<EsearchResult, ScrapeError> {
    content::check(Service::PubMed, None, body, Expect::Any)?;
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    match first {
        Some(b'{') => parse_json(body),
        Some(b'<') => parse_xml(body),
        _ => Err(ScrapeError::parse(Service::PubMed, "esearch answer is neither JSON nor XML")),
    }
}

fn number(field: &str, value: Option<&str>) -> Result<u64, ScrapeError> {
    match value {
        None => Ok(0),
        Some(v) => v.trim().parse().map_err(|_| {
            ScrapeError::parse(Service::PubMed, format!("esearch {field} is not a number: {v:?}"))
        }),
    }
}

fn rejected(message: &str) -> ScrapeError {
    ScrapeError::invalid("query", format!("PubMed rejected the query: {message}"))
}

fn parse_json(body: &[u8]) -> Result<EsearchResult, ScrapeError> {
    let answer: JsonAnswer = serde_json::from_slice(body)
        .map_err(|err| ScrapeError::parse(Service::PubMed, format!("esearch JSON: {err}")))?;
    let r = answer.esearchresult;
    if let Some(message) = r.error {
        return Err(rejected(&message));
    }
    let errors = r.errorlist.unwrap_or_default();
    let warnings = r.warninglist.unwrap_or_default();
    let mut notes: Vec<String> = Vec::new();
    notes.extend(errors.fieldsnotfound.iter().map(|f| format!("field not found: {f}")));
    notes.extend(warnings.phrasesignored.iter().map(|p| format!("phrase ignored: {p}")));
    notes.extend(warnings.quotedphrasesnotfound.iter().map(|p| format!("quoted phrase not found: {p}")));
    notes.extend(warnings.outputmessages);
    Ok(EsearchResult {
        count: number("count", r.count.as_deref())?,
        retstart: number("retstart", r.retstart.as_deref())?,
        retmax: number("retmax", r.retmax.as_deref())?,
        ids: r.idlist,
        query_translation: r.querytranslation.filter(|q| !q.is_empty()),
        phrases_not_found: errors.phrasesnotfound,
        warnings: notes,
        web_env: r.webenv,
        query_key: r.querykey,
    })
}

fn parse_xml(body: &[u8]) -> Result<EsearchResult, ScrapeError> {
    let mut reader = Reader::from_reader(body);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    let mut out = EsearchResult::default();
    let (mut count, mut retmax, mut retstart) = (None, None, None);
    let mut error = None;
    let mut root = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|err| ScrapeError::parse(Service::PubMed, format!("esearch XML: {err}")))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                root |= path.is_empty() && name == b"eSearchResult";
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.decode().unwrap_or_default()),
            Event::GeneralRef(r) => {
                if let Ok(Some(ch)) = r.resolve_char_ref() {
                    text.push(ch);
                } else {
                    let name = r.decode().unwrap_or_default();
                    text.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "",
                    });
                }
            }
            Event::End(_) => {
                let value = text.trim().to_owned();
                let parts: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
                match parts.as_slice() {
                    [b"eSearchResult", b"Count"] => count = Some(value),
                    [b"eSearchResult", b"RetMax"] => retmax = Some(value),
                    [b"eSearchResult", b"RetStart"] => retstart = Some(value),
                    [b"eSearchResult", b"QueryKey"] => out.query_key = Some(value),
                    [b"eSearchResult", b"WebEnv"] => out.web_env = Some(value),
                    [b"eSearchResult", b"IdList", b"Id"] => out.ids.push(value),
                    [b"eSearchResult", b"QueryTranslation"] => out.query_translation = Some(value),
                    [b"eSearchResult", b"ERROR"] => error = Some(value),
                    [b"eSearchResult", b"ErrorList", b"PhraseNotFound"] => out.phrases_not_found.push(value),
                    [b"eSearchResult", b"ErrorList", b"FieldNotFound"] => {
                        out.warnings.push(format!("field not found: {value}"))
                    }
                    [b"eSearchResult", b"WarningList", kind] => out.warnings.push(match *kind {
                        b"PhraseIgnored" => format!("phrase ignored: {value}"),
                        b"QuotedPhraseNotFound" => format!("quoted phrase not found: {value}"),
                        _ => value,
                    }),
                    _ => {}
                }
                path.pop();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root {
        return Err(ScrapeError::parse(Service::PubMed, "not an eSearchResult document"));
    }
    if let Some(message) = error {
        return Err(rejected(&message));
    }
    out.count = number("Count", count.as_deref())?;
    out.retmax = number("RetMax", retmax.as_deref())?;
    out.retstart = number("RetStart", retstart.as_deref())?;
    out.query_translation = out.query_translation.filter(|q| !q.is_empty());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esearch_errors_name_the_query() {
        let err =
            parse_esearch(br#"{"esearchresult":{"ERROR":"Invalid query syntax"}}"#).expect_err("rejected");
        assert_eq!(err, ScrapeError::invalid("query", "PubMed rejected the query: Invalid query syntax"));
        let err = parse_esearch(
            b"<eSearchResult><ERROR>Empty term and query_key - nothing todo</ERROR></eSearchResult>",
        )
        .expect_err("rejected");
        assert_eq!(err.kind(), "invalid_argument");
        assert_eq!(parse_esearch(b"plain").expect_err("garbage").kind(), "parse");
        assert_eq!(
            parse_esearch(br#"{"esearchresult":{"count":"many"}}"#).expect_err("count").kind(),
            "parse"
        );
    }
}
