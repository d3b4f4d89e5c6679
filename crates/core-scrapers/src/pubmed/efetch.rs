//! The efetch XML parser: one pass of quick-xml events (no DOM), a small element stack for context, and
//! text captured only for the fields an `Article` keeps.
//!
//! Context matters: `PMID` also appears in comments/corrections, `ArticleIdList` in cited references,
//! `Author`-like names in investigator lists; only the article's own elements are taken. Inline markup
//! (`<i>`, `<sup>`, …) is flattened to its text; MathML is reduced to text with `^` and `_` marking
//! super- and subscripts.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::error::ScrapeError;
use crate::http::Service;
use crate::pubmed::model::{AbstractSection, Article, Author, Journal, MeshHeading, PubDate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    PubmedArticle,
    PubmedBookArticle,
    MedlineCitation,
    BookDocument,
    Book,
    Pmid,
    Article,
    ArticleTitle,
    BookTitle,
    Abstract,
    AbstractText,
    AuthorList,
    Author,
    LastName,
    ForeName,
    Initials,
    Suffix,
    CollectiveName,
    AffiliationInfo,
    Affiliation,
    Identifier,
    Journal,
    Title,
    IsoAbbreviation,
    JournalIssue,
    Volume,
    Issue,
    PubDate,
    Year,
    Month,
    Day,
    Season,
    MedlineDate,
    ELocationId,
    PubmedData,
    PubmedBookData,
    ArticleIdList,
    ArticleId,
    MeshHeading,
    DescriptorName,
    QualifierName,
    PublicationTypeList,
    PublicationType,
    KeywordList,
    Keyword,
    PubmedArticleSet,
    Error,
    MathSup,
    MathSub,
    MathSubSup,
    /// A container whose whole content pipette never reads: jumped over with a byte search.
    Skipped,
    Other,
}

fn tag_of(name: &[u8]) -> Tag {
    match name {
        b"PubmedArticle" => Tag::PubmedArticle,
        b"PubmedBookArticle" => Tag::PubmedBookArticle,
        b"MedlineCitation" => Tag::MedlineCitation,
        b"BookDocument" => Tag::BookDocument,
        b"Book" => Tag::Book,
        b"PMID" => Tag::Pmid,
        b"Article" => Tag::Article,
        b"ArticleTitle" => Tag::ArticleTitle,
        b"BookTitle" => Tag::BookTitle,
        b"Abstract" => Tag::Abstract,
        b"AbstractText" => Tag::AbstractText,
        b"AuthorList" => Tag::AuthorList,
        b"Author" => Tag::Author,
        b"LastName" => Tag::LastName,
        b"ForeName" => Tag::ForeName,
        b"Initials" => Tag::Initials,
        b"Suffix" => Tag::Suffix,
        b"CollectiveName" => Tag::CollectiveName,
        b"AffiliationInfo" => Tag::AffiliationInfo,
        b"Affiliation" => Tag::Affiliation,
        b"Identifier" => Tag::Identifier,
        b"Journal" => Tag::Journal,
        b"Title" => Tag::Title,
        b"ISOAbbreviation" => Tag::IsoAbbreviation,
        b"JournalIssue" => Tag::JournalIssue,
        b"Volume" => Tag::Volume,
        b"Issue" => Tag::Issue,
        b"PubDate" => Tag::PubDate,
        b"Year" => Tag::Year,
        b"Month" => Tag::Month,
        b"Day" => Tag::Day,
        b"Season" => Tag::Season,
        b"MedlineDate" => Tag::MedlineDate,
        b"ELocationID" => Tag::ELocationId,
        b"PubmedData" => Tag::PubmedData,
        b"PubmedBookData" => Tag::PubmedBookData,
        b"ArticleIdList" => Tag::ArticleIdList,
        b"ArticleId" => Tag::ArticleId,
        b"MeshHeading" => Tag::MeshHeading,
        b"DescriptorName" => Tag::DescriptorName,
        b"QualifierName" => Tag::QualifierName,
        b"PublicationTypeList" => Tag::PublicationTypeList,
        b"PublicationType" => Tag::PublicationType,
        b"KeywordList" => Tag::KeywordList,
        b"Keyword" => Tag::Keyword,
        b"PubmedArticleSet" => Tag::PubmedArticleSet,
        b"ERROR" => Tag::Error,
        b"msup" => Tag::MathSup,
        b"msub" => Tag::MathSub,
        b"msubsup" => Tag::MathSubSup,
        b"InvestigatorList"
        | b"ReferenceList"
        | b"ChemicalList"
        | b"CommentsCorrectionsList"
        | b"History"
        | b"DataBankList"
        | b"GrantList"
        | b"MedlineJournalInfo"
        | b"SupplMeshList"
        | b"GeneSymbolList"
        | b"PersonalNameSubjectList"
        | b"OtherAbstract" => Tag::Skipped,
        _ => Tag::Other,
    }
}

/// The field the captured text goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Pmid,
    Title,
    BookTitle,
    AbstractText,
    LastName,
    ForeName,
    Initials,
    Suffix,
    CollectiveName,
    Affiliation,
    Orcid,
    JournalTitle,
    IsoAbbreviation,
    Volume,
    Issue,
    Year,
    Month,
    Day,
    Season,
    MedlineDate,
    ELocationDoi,
    ArticleIdDoi,
    ArticleIdPmc,
    Descriptor,
    Qualifier,
    PublicationType,
    Keyword,
    Error,
}

struct Frame {
    tag: Tag,
    children: u32,
}

#[derive(Default)]
struct AuthorParts {
    last: Option<String>,
    fore: Option<String>,
    initials: Option<String>,
    suffix: Option<String>,
    collective: Option<String>,
    affiliations: Vec<String>,
    orcid: Option<String>,
}

#[derive(Default)]
struct DateParts {
    year: Option<String>,
    month: Option<String>,
    day: Option<String>,
    season: Option<String>,
    medline: Option<String>,
}

#[derive(Default)]
struct ArticleParts {
    article: Article,
    book_title: Option<String>,
    section_label: Option<String>,
    journal: Journal,
    date: DateParts,
    eloc_doi: Option<String>,
    id_doi: Option<String>,
    author: Option<AuthorParts>,
    skip_authors: bool,
    mesh: Option<MeshHeading>,
    major_pending: bool,
}

/// Parses an efetch `PubmedArticleSet` (retmode=xml) into articles, in document order.
///
/// An `<ERROR>` answer is `UnexpectedContent`; malformed or truncated XML is `Parse`. A record without
/// a PMID is skipped with a warning.
pub fn parse_efetch(xml: &[u8]) -> Result<Vec<Article>, ScrapeError> {
    let mut reader = Reader::from_reader(xml);
    let mut stack: Vec<Frame> = Vec::with_capacity(32);
    let mut articles = Vec::new();
    let mut current: Option<ArticleParts> = None;
    let mut capture: Option<(usize, Field)> = None;
    let mut text = String::new();
    let mut error: Option<String> = None;
    let mut saw_root = false;

    let fail = |reader: &Reader<&[u8]>, detail: String| {
        ScrapeError::parse(
            Service::PubMed,
            format!("efetch XML near byte {}: {detail}", reader.buffer_position()),
        )
    };

    loop {
        let event = reader.read_event().map_err(|err| fail(&reader, err.to_string()))?;
        match event {
            Event::Start(e) => {
                let tag = tag_of(e.local_name().as_ref());
                if capture.is_some() {
                    math_marker(&mut stack, &mut text);
                } else if let Some(parent) = stack.last_mut() {
                    parent.children += 1;
                }
                if matches!(tag, Tag::PubmedArticleSet | Tag::Error) {
                    saw_root = true;
                }
                if capture.is_none() {
                    if matches!(tag, Tag::PubmedArticle | Tag::PubmedBookArticle) {
                        current = Some(ArticleParts::default());
                    }
                    let field = match current.as_mut() {
                        Some(parts) => open(parts, &stack, tag, &e),
                        None => (tag == Tag::Error).then_some(Field::Error),
                    };
                    if let Some(field) = field {
                        capture = Some((stack.len() + 1, field));
                        text.clear();
                    }
                    if tag == Tag::Skipped {
                        skip_to_end(&mut reader, e.name().as_ref());
                    }
                }
                stack.push(Frame { tag, children: 0 });
            }
            Event::Empty(_) => {
                if capture.is_some() {
                    math_marker(&mut stack, &mut text);
                } else if let Some(parent) = stack.last_mut() {
                    parent.children += 1;
                }
            }
            Event::End(_) => {
                let depth = stack.len();
                let Some(frame) = stack.pop() else {
                    return Err(fail(&reader, "an end tag without a start".to_owned()));
                };
                if let Some((at, field)) = capture
                    && at == depth
                {
                    capture = None;
                    let value = normalize(&text);
                    match current.as_mut() {
                        Some(parts) => store(parts, field, value),
                        None if field == Field::Error => error = Some(value),
                        None => {}
                    }
                }
                if capture.is_none() {
                    close(&mut current, &mut articles, &stack, frame.tag);
                }
            }
            Event::Text(t) if capture.is_some() => {
                let decoded = t.decode().map_err(|err| fail(&reader, err.to_string()))?;
                text.push_str(&decoded);
            }
            Event::CData(t) if capture.is_some() => {
                let decoded = t.decode().map_err(|err| fail(&reader, err.to_string()))?;
                text.push_str(&decoded);
            }
            Event::GeneralRef(r) if capture.is_some() => {
                match r.resolve_char_ref().map_err(|err| fail(&reader, err.to_string()))? {
                    Some(ch) => text.push(ch),
                    None => {
                        let name = r.decode().map_err(|err| fail(&reader, err.to_string()))?;
                        match name.as_ref() {
                            "amp" => text.push('&'),
                            "lt" => text.push('<'),
                            "gt" => text.push('>'),
                            "quot" => text.push('"'),
                            "apos" => text.push('\''),
                            other => {
                                text.push('&');
                                text.push_str(other);
                                text.push(';');
                            }
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }

    if let Some(open) = stack.last() {
        return Err(fail(&reader, format!("the document ends inside <{:?}> (truncated?)", open.tag)));
    }
    if let Some(message) = error
        && articles.is_empty()
    {
        return Err(ScrapeError::UnexpectedContent {
            service: Service::PubMed,
            detail: format!("efetch answered an error: {message:?}"),
        });
    }
    if !saw_root {
        return Err(ScrapeError::parse(Service::PubMed, "not an efetch PubmedArticleSet document"));
    }
    Ok(articles)
}

/// Jumps the reader to the end tag of the element just opened (these containers never nest in
/// themselves), so their content costs one byte search instead of one event per element. When the end
/// tag is not found as written, nothing is skipped and the events are read as usual.
fn skip_to_end(reader: &mut Reader<&[u8]>, name: &[u8]) {
    let mut end = Vec::with_capacity(name.len() + 3);
    end.extend_from_slice(b"</");
    end.extend_from_slice(name);
    end.push(b'>');
    let rest: &[u8] = reader.get_ref();
    if let Some(at) = memchr::memmem::find(rest, &end) {
        *reader.get_mut() = &rest[at..];
    }
}

/// Inside MathML `msup`/`msub`/`msubsup`, marks the script children with `^` / `_`.
fn math_marker(stack: &mut [Frame], text: &mut String) {
    if let Some(parent) = stack.last_mut() {
        parent.children += 1;
        match (parent.tag, parent.children) {
            (Tag::MathSup, 2) | (Tag::MathSubSup, 3) => text.push('^'),
            (Tag::MathSub, 2) | (Tag::MathSubSup, 2) => text.push('_'),
            _ => {}
        }
    }
}

fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    let attr = e.try_get_attribute(name).ok().flatten()?;
    attr.unescape_value().ok().map(|v| v.into_owned())
}

fn parent_is(stack: &[Frame], up: usize, tags: &[Tag]) -> bool {
    stack.len() >= up && tags.contains(&stack[stack.len() - up].tag)
}

/// On a start tag inside an article: structural bookkeeping, and which field (if any) to capture.
fn open(parts: &mut ArticleParts, stack: &[Frame], tag: Tag, e: &BytesStart<'_>) -> Option<Field> {
    let in_author = parent_is(stack, 1, &[Tag::Author]) && parts.author.is_some();
    let doc = [Tag::Article, Tag::BookDocument];
    match tag {
        Tag::Pmid if parent_is(stack, 1, &[Tag::MedlineCitation, Tag::BookDocument]) => {
            parts.article.pmid.is_empty().then_some(Field::Pmid)
        }
        Tag::ArticleTitle if parent_is(stack, 1, &doc) => Some(Field::Title),
        Tag::BookTitle if parent_is(stack, 1, &[Tag::Book]) => Some(Field::BookTitle),
        Tag::AbstractText if parent_is(stack, 1, &[Tag::Abstract]) && parent_is(stack, 2, &doc) => {
            parts.section_label = attr(e, b"Label").filter(|l| !l.trim().is_empty());
            Some(Field::AbstractText)
        }
        Tag::AuthorList if parent_is(stack, 1, &doc) => {
            parts.skip_authors = attr(e, b"Type").is_some_and(|t| t != "authors");
            None
        }
        Tag::Author
            if parent_is(stack, 1, &[Tag::AuthorList])
                && parent_is(stack, 2, &doc)
                && !parts.skip_authors =>
        {
            parts.author = Some(AuthorParts::default());
            None
        }
        Tag::LastName if in_author => Some(Field::LastName),
        Tag::ForeName if in_author => Some(Field::ForeName),
        Tag::Initials if in_author => Some(Field::Initials),
        Tag::Suffix if in_author => Some(Field::Suffix),
        Tag::CollectiveName if in_author => Some(Field::CollectiveName),
        Tag::Identifier if in_author => {
            attr(e, b"Source").is_some_and(|s| s.eq_ignore_ascii_case("ORCID")).then_some(Field::Orcid)
        }
        Tag::Affiliation
            if parent_is(stack, 1, &[Tag::AffiliationInfo])
                && parent_is(stack, 2, &[Tag::Author])
                && parts.author.is_some() =>
        {
            Some(Field::Affiliation)
        }
        Tag::Title if parent_is(stack, 1, &[Tag::Journal]) => Some(Field::JournalTitle),
        Tag::IsoAbbreviation if parent_is(stack, 1, &[Tag::Journal]) => Some(Field::IsoAbbreviation),
        Tag::Volume if parent_is(stack, 1, &[Tag::JournalIssue]) => Some(Field::Volume),
        Tag::Issue if parent_is(stack, 1, &[Tag::JournalIssue]) => Some(Field::Issue),
        Tag::Year | Tag::Month | Tag::Day | Tag::Season | Tag::MedlineDate
            if parent_is(stack, 1, &[Tag::PubDate]) && parent_is(stack, 2, &[Tag::JournalIssue]) =>
        {
            Some(match tag {
                Tag::Year => Field::Year,
                Tag::Month => Field::Month,
                Tag::Day => Field::Day,
                Tag::Season => Field::Season,
                _ => Field::MedlineDate,
            })
        }
        Tag::ELocationId if parent_is(stack, 1, &doc) => {
            attr(e, b"EIdType").is_some_and(|t| t == "doi").then_some(Field::ELocationDoi)
        }
        Tag::ArticleId
            if parent_is(stack, 1, &[Tag::ArticleIdList])
                && parent_is(stack, 2, &[Tag::PubmedData, Tag::PubmedBookData]) =>
        {
            match attr(e, b"IdType").as_deref() {
                Some("doi") => Some(Field::ArticleIdDoi),
                Some("pmc") => Some(Field::ArticleIdPmc),
                _ => None,
            }
        }
        Tag::MeshHeading => {
            parts.mesh = Some(MeshHeading::default());
            None
        }
        Tag::DescriptorName | Tag::QualifierName if parent_is(stack, 1, &[Tag::MeshHeading]) => {
            parts.major_pending = attr(e, b"MajorTopicYN").is_some_and(|v| v == "Y");
            Some(if tag == Tag::DescriptorName { Field::Descriptor } else { Field::Qualifier })
        }
        Tag::PublicationType if parent_is(stack, 1, &[Tag::PublicationTypeList]) => {
            Some(Field::PublicationType)
        }
        Tag::Keyword if parent_is(stack, 1, &[Tag::KeywordList]) => Some(Field::Keyword),
        _ => None,
    }
}

/// Stores one captured field.
fn store(parts: &mut ArticleParts, field: Field, value: String) {
    let some = |v: String| (!v.is_empty()).then_some(v);
    match field {
        Field::Pmid => parts.article.pmid = value,
        Field::Title => parts.article.title = value,
        Field::BookTitle => parts.book_title = some(value),
        Field::AbstractText => {
            if !value.is_empty() {
                parts
                    .article
                    .abstract_sections
                    .push(AbstractSection { label: parts.section_label.take(), text: value });
            }
        }
        Field::LastName | Field::ForeName | Field::Initials | Field::Suffix | Field::CollectiveName => {
            if let Some(author) = parts.author.as_mut() {
                let slot = match field {
                    Field::LastName => &mut author.last,
                    Field::ForeName => &mut author.fore,
                    Field::Initials => &mut author.initials,
                    Field::Suffix => &mut author.suffix,
                    _ => &mut author.collective,
                };
                *slot = some(value);
            }
        }
        Field::Affiliation => {
            if let Some(author) = parts.author.as_mut()
                && !value.is_empty()
            {
                author.affiliations.push(value);
            }
        }
        Field::Orcid => {
            if let Some(author) = parts.author.as_mut() {
                author.orcid = normalize_orcid(&value);
            }
        }
        Field::JournalTitle => parts.journal.title = some(value),
        Field::IsoAbbreviation => parts.journal.iso_abbreviation = some(value),
        Field::Volume => parts.journal.volume = some(value),
        Field::Issue => parts.journal.issue = some(value),
        Field::Year => parts.date.year = some(value),
        Field::Month => parts.date.month = some(value),
        Field::Day => parts.date.day = some(value),
        Field::Season => parts.date.season = some(value),
        Field::MedlineDate => parts.date.medline = some(value),
        Field::ELocationDoi => {
            if parts.eloc_doi.is_none() {
                parts.eloc_doi = some(value);
            }
        }
        Field::ArticleIdDoi => parts.id_doi = some(value),
        Field::ArticleIdPmc => parts.article.pmcid = some(value),
        Field::Descriptor | Field::Qualifier => {
            if let Some(mesh) = parts.mesh.as_mut() {
                mesh.major_topic |= parts.major_pending;
                if field == Field::Descriptor {
                    mesh.descriptor = value;
                } else if !value.is_empty() {
                    mesh.qualifiers.push(value);
                }
            }
        }
        Field::PublicationType => {
            if !value.is_empty() {
                parts.article.publication_types.push(value);
            }
        }
        Field::Keyword => {
            if !value.is_empty() {
                parts.article.keywords.push(value);
            }
        }
        Field::Error => {}
    }
}

/// On an end tag outside any capture: finishes authors, MeSH headings and articles.
fn close(current: &mut Option<ArticleParts>, articles: &mut Vec<Article>, stack: &[Frame], tag: Tag) {
    let Some(parts) = current.as_mut() else { return };
    match tag {
        Tag::Author => {
            if let Some(author) = parts.author.take().and_then(finish_author) {
                parts.article.authors.push(author);
            }
        }
        Tag::MeshHeading => {
            if let Some(mesh) = parts.mesh.take()
                && !mesh.descriptor.is_empty()
            {
                parts.article.mesh.push(mesh);
            }
        }
        Tag::AuthorList if parent_is(stack, 1, &[Tag::Article, Tag::BookDocument]) => {
            parts.skip_authors = false
        }
        Tag::PubmedArticle | Tag::PubmedBookArticle => {
            if let Some(parts) = current.take() {
                match finish_article(parts) {
                    Some(article) => articles.push(article),
                    None => tracing::warn!("skipping a PubMed record without a PMID"),
                }
            }
        }
        _ => {}
    }
}

fn finish_author(a: AuthorParts) -> Option<Author> {
    let affiliation = (!a.affiliations.is_empty()).then(|| a.affiliations.join("; "));
    if let Some(name) = a.collective {
        return Some(Author { name, affiliation, orcid: a.orcid, collective: true });
    }
    let given = a.fore.or(a.initials);
    let mut name = [given, a.last, a.suffix].into_iter().flatten().collect::<Vec<_>>().join(" ");
    name = name.trim().to_owned();
    (!name.is_empty()).then_some(Author { name, affiliation, orcid: a.orcid, collective: false })
}

fn finish_article(mut parts: ArticleParts) -> Option<Article> {
    if parts.article.pmid.is_empty() {
        return None;
    }
    if parts.article.title.is_empty()
        && let Some(book) = parts.book_title.take()
    {
        parts.article.title = book;
    }
    let sections = &parts.article.abstract_sections;
    if !sections.is_empty() {
        let joined = sections
            .iter()
            .map(|s| match &s.label {
                Some(label) => format!("{label}: {}", s.text),
                None => s.text.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n\n");
        parts.article.abstract_text = Some(joined);
    }
    if parts.journal != Journal::default() {
        parts.article.journal = Some(parts.journal);
    }
    parts.article.pub_date = pub_date(parts.date);
    parts.article.doi = parts.id_doi.or(parts.eloc_doi);
    Some(parts.article)
}

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A month from "Jun", "june", "06" or "6".
fn month_number(s: &str) -> Option<u8> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u8>() {
        return (1..=12).contains(&n).then_some(n);
    }
    let prefix = s.get(..3)?;
    MONTHS.iter().position(|m| m.eq_ignore_ascii_case(prefix)).map(|i| i as u8 + 1)
}

fn pub_date(d: DateParts) -> Option<PubDate> {
    if let Some(raw) = d.medline {
        return Some(medline_date(&raw));
    }
    let year = d.year.as_deref().and_then(|y| y.trim().parse::<i32>().ok());
    let month = d.month.as_deref().and_then(month_number);
    let day = d.day.as_deref().and_then(|v| v.trim().parse::<u8>().ok()).filter(|v| (1..=31).contains(v));
    let mut text: Vec<String> = Vec::new();
    text.extend(d.year.clone());
    match (month, &d.month) {
        (Some(m), _) => text.push(MONTHS[usize::from(m - 1)].to_owned()),
        (None, Some(raw)) => text.push(raw.clone()),
        _ => {}
    }
    text.extend(d.day.clone());
    text.extend(d.season.clone());
    if text.is_empty() {
        return None;
    }
    Some(PubDate { year, month, day: month.and(day), text: text.join(" ") })
}

/// "1998 Dec-1999 Jan", "2000 Spring", "1975-1976", "2001 Nov 15-30": the first year, the month right after
/// it (when named), the day after that (when a number); the text stays as written.
fn medline_date(raw: &str) -> PubDate {
    let tokens: Vec<&str> =
        raw.split(|c: char| c.is_whitespace() || c == '-').filter(|t| !t.is_empty()).collect();
    let year_at = tokens.iter().position(|t| t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()));
    let year = year_at.and_then(|i| tokens[i].parse::<i32>().ok());
    let month = year_at
        .and_then(|i| tokens.get(i + 1))
        .filter(|t| t.chars().all(char::is_alphabetic))
        .and_then(|t| month_number(t));
    let day = year_at
        .filter(|_| month.is_some())
        .and_then(|i| tokens.get(i + 2))
        .and_then(|t| t.parse::<u8>().ok())
        .filter(|v| (1..=31).contains(v));
    PubDate { year, month, day, text: raw.to_owned() }
}

fn normalize_orcid(raw: &str) -> Option<String> {
    let chars: Vec<char> = raw.chars().filter(|c| c.is_ascii_digit() || *c == 'X' || *c == 'x').collect();
    if chars.len() < 16 {
        return None;
    }
    let id: String = chars[chars.len() - 16..].iter().map(|c| c.to_ascii_uppercase()).collect();
    Some(format!("{}-{}-{}-{}", &id[0..4], &id[4..8], &id[8..12], &id[12..16]))
}

/// Collapses whitespace runs to one space and trims.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(xml: &str) -> Article {
        let mut articles = parse_efetch(xml.as_bytes()).expect("parses");
        assert_eq!(articles.len(), 1);
        articles.remove(0)
    }

    fn wrap(inner: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID>\
             <Article>{inner}</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>"
        )
    }

    #[test]
    fn mathml_and_inline_markup_become_text() {
        let a = one(&wrap(
            "<ArticleTitle>Energy <i>E</i> = <mml:math xmlns:mml=\"http://www.w3.org/1998/Math/MathML\">\
             <mml:msup><mml:mi>mc</mml:mi><mml:mn>2</mml:mn></mml:msup></mml:math> and \
             <mml:math><mml:msub><mml:mi>x</mml:mi><mml:mi>i</mml:mi></mml:msub></mml:math> &amp; CO<sub>2</sub></ArticleTitle>",
        ));
        assert_eq!(a.title, "Energy E = mc^2 and x_i & CO2");
    }

    #[test]
    fn medline_and_season_dates() {
        let cases = [
            ("<MedlineDate>1998 Dec-1999 Jan</MedlineDate>", Some(1998), Some(12), None, "1998 Dec-1999 Jan"),
            ("<MedlineDate>2001 Nov 15-30</MedlineDate>", Some(2001), Some(11), Some(15), "2001 Nov 15-30"),
            ("<MedlineDate>1975-1976</MedlineDate>", Some(1975), None, None, "1975-1976"),
            ("<Year>1990</Year><Season>Spring</Season>", Some(1990), None, None, "1990 Spring"),
            ("<Year>2011</Year><Month>06</Month><Day>30</Day>", Some(2011), Some(6), Some(30), "2011 Jun 30"),
        ];
        for (date, year, month, day, text) in cases {
            let a = one(&wrap(&format!(
                "<Journal><JournalIssue><PubDate>{date}</PubDate></JournalIssue></Journal><ArticleTitle>t</ArticleTitle>"
            )));
            let d = a.pub_date.expect("date");
            assert_eq!((d.year, d.month, d.day, d.text.as_str()), (year, month, day, text), "{date}");
        }
    }

    #[test]
    fn orcid_affiliations_and_unlabelled_abstracts() {
        let a = one(&wrap(
            "<ArticleTitle>t</ArticleTitle><Abstract><AbstractText>Plain  text\n here.</AbstractText></Abstract>\
             <AuthorList><Author><LastName>Chapman</LastName><ForeName>Paul B</ForeName>\
             <Identifier Source=\"ORCID\">https://orcid.org/0000000218250097</Identifier>\
             <AffiliationInfo><Affiliation>MSKCC</Affiliation></AffiliationInfo>\
             <AffiliationInfo><Affiliation>Weill Cornell</Affiliation></AffiliationInfo></Author></AuthorList>",
        ));
        assert_eq!(a.abstract_text.as_deref(), Some("Plain text here."));
        assert_eq!(a.abstract_sections[0].label, None);
        let author = &a.authors[0];
        assert_eq!(author.name, "Paul B Chapman");
        assert_eq!(author.orcid.as_deref(), Some("0000-0002-1825-0097"));
        assert_eq!(author.affiliation.as_deref(), Some("MSKCC; Weill Cornell"));
    }

    #[test]
    fn skipped_containers_leave_nothing_behind() {
        let a = one(&wrap(
            "<ArticleTitle>t</ArticleTitle><Abstract><AbstractText>mine</AbstractText></Abstract>\
             <OtherAbstract Type=\"Publisher\"><AbstractText>not mine</AbstractText></OtherAbstract>\
             <InvestigatorList><Investigator><LastName>Not</LastName><ForeName>An Author</ForeName></Investigator>\
             </InvestigatorList><AuthorList><Author><LastName>Real</LastName><ForeName>A</ForeName></Author></AuthorList>",
        ));
        assert_eq!(a.abstract_text.as_deref(), Some("mine"));
        let names: Vec<&str> = a.authors.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["A Real"]);
        let cut =
            wrap("<ArticleTitle>t</ArticleTitle><InvestigatorList><Investigator><LastName>X</LastName>");
        let cut = &cut[..cut.find("</Article>").unwrap_or(cut.len())];
        assert_eq!(parse_efetch(cut.as_bytes()).expect_err("unterminated skip").kind(), "parse");
    }

    #[test]
    fn errors_and_broken_documents_are_typed() {
        let err = parse_efetch(b"<eFetchResult><ERROR>Empty id list - nothing todo</ERROR></eFetchResult>")
            .expect_err("error answer");
        assert_eq!(err.kind(), "unexpected_content");
        assert!(err.to_string().contains("Empty id list"), "{err}");

        let truncated = &wrap("<ArticleTitle>t</ArticleTitle>")[..120];
        assert_eq!(parse_efetch(truncated.as_bytes()).expect_err("truncated").kind(), "parse");
        assert_eq!(parse_efetch(b"<a><b></a>").expect_err("mismatched").kind(), "parse");
        assert_eq!(parse_efetch(b"{\"json\": true}").expect_err("not xml").kind(), "parse");
        assert!(
            parse_efetch(b"<?xml version=\"1.0\"?><PubmedArticleSet></PubmedArticleSet>")
                .expect("empty")
                .is_empty()
        );
    }
}
