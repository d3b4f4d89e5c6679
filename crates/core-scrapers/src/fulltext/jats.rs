//! The JATS parser: every dialect PMC and Europe PMC serve, into the one [`FullText`] model.
//!
//! Dialects: efetch's `<pmc-articleset>` wrapper, the datasets copy's bare `<article>` (no XML declaration),
//! OAI-PMH's `<OAI-PMH>…<metadata><article xmlns="…jats…">` (a default namespace: names are matched by
//! their local part), Europe PMC's answer (no declaration, bare-digit `pmcid`). PMC ids come as `pmcid`,
//! `pmc`, `pmcid-ver`, `pmcaid`, `accession` or `pmc-uid`, with or without `PMC`. Only the article's own
//! `front/article-meta` gives its ids; references (`<pub-id>` in `<ref>`) and sub-articles never do.
//! Inline markup is flattened to text; MathML keeps `^`/`_` for super- and subscripts and `/` for
//! fractions; TeX alternatives of a MathML formula are dropped.
//!
//! One pass of quick-xml events builds a compact element tree (names and attributes by local name, text
//! decoded once); the walk over it is the model.

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::ScrapeError;
use crate::fulltext::model::{
    ArticleDate, ArticleIds, Caption, CaptionKind, FullText, FullTextAuthor, Reference, Section, Source,
};
use crate::http::Service;

/// What a JATS answer held: an article, or an answer saying there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JatsAnswer {
    /// The article.
    Article(Box<FullText>),
    /// No article: the id is unknown (an efetch `<error>`, OAI `idDoesNotExist`, an empty set).
    NotFound(String),
    /// The article exists but its full text is not given (OAI `cannotDisseminateFormat`, Europe PMC's
    /// `errorBean`, the OA service's `idIsNotOpenAccess`).
    NotOpen(String),
}

#[derive(Debug)]
struct Node<'a> {
    /// The local name (namespace prefix dropped), borrowed from the document.
    name: Cow<'a, str>,
    /// Attributes by local name.
    attrs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    kids: Vec<Kid<'a>>,
}

#[derive(Debug)]
enum Kid<'a> {
    El(usize),
    Text(Cow<'a, str>),
}

/// The document as a compact tree whose names and text borrow from the input where they can.
struct Tree<'a> {
    nodes: Vec<Node<'a>>,
}

fn local(name: &[u8]) -> &[u8] {
    match memchr::memrchr(b':', name) {
        Some(at) => &name[at + 1..],
        None => name,
    }
}

fn cow_str(bytes: Cow<'_, [u8]>) -> Cow<'_, str> {
    match bytes {
        Cow::Borrowed(b) => String::from_utf8_lossy(b),
        Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
    }
}

fn sub_cow<'a>(whole: &Cow<'a, [u8]>, part: &[u8]) -> Cow<'a, str> {
    match whole {
        Cow::Borrowed(b) => {
            // `part` lies inside `b`: re-slice with the input's lifetime.
            let at = part.as_ptr() as usize - b.as_ptr() as usize;
            String::from_utf8_lossy(&b[at..at + part.len()])
        }
        Cow::Owned(_) => Cow::Owned(String::from_utf8_lossy(part).into_owned()),
    }
}

fn entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "thinsp" => '\u{2009}',
        "hellip" => '…',
        "plusmn" => '±',
        "times" => '×',
        "deg" => '°',
        "micro" => 'µ',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        _ => return None,
    })
}

impl<'a> Tree<'a> {
    fn parse(xml: &'a [u8], service: Service) -> Result<Tree<'a>, ScrapeError> {
        let mut reader = Reader::from_reader(xml);
        let mut nodes: Vec<Node<'a>> = Vec::with_capacity(xml.len() / 48);
        nodes.push(Node { name: Cow::Borrowed("#document"), attrs: Vec::new(), kids: Vec::new() });
        let mut stack: Vec<usize> = vec![0];
        let fail = |reader: &Reader<&[u8]>, detail: String| {
            ScrapeError::parse(service, format!("JATS XML near byte {}: {detail}", reader.buffer_position()))
        };
        loop {
            let event = reader.read_event().map_err(|e| fail(&reader, e.to_string()))?;
            match event {
                Event::Start(e) => {
                    let id = push_node(&mut nodes, &stack, xml, &e);
                    stack.push(id);
                }
                Event::Empty(e) => {
                    push_node(&mut nodes, &stack, xml, &e);
                }
                Event::End(_) => {
                    if stack.len() <= 1 {
                        return Err(fail(&reader, "an end tag without a start".to_owned()));
                    }
                    stack.pop();
                }
                Event::Text(t) if stack.len() > 1 => {
                    let text = cow_str(t.into_inner());
                    let parent = stack[stack.len() - 1];
                    nodes[parent].kids.push(Kid::Text(text));
                }
                Event::CData(t) if stack.len() > 1 => {
                    let text = cow_str(t.into_inner());
                    let parent = stack[stack.len() - 1];
                    nodes[parent].kids.push(Kid::Text(text));
                }
                Event::GeneralRef(r) if stack.len() > 1 => {
                    let text = match r.resolve_char_ref().map_err(|e| fail(&reader, e.to_string()))? {
                        Some(ch) => ch.to_string(),
                        None => {
                            let name = r.decode().map_err(|e| fail(&reader, e.to_string()))?;
                            match entity(&name) {
                                Some(ch) => ch.to_string(),
                                None => format!("&{name};"),
                            }
                        }
                    };
                    let parent = stack[stack.len() - 1];
                    nodes[parent].kids.push(Kid::Text(Cow::Owned(text)));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if stack.len() > 1 {
            return Err(fail(&reader, "the document ends inside an element (truncated?)".to_owned()));
        }
        Ok(Tree { nodes })
    }

    fn name(&self, id: usize) -> &str {
        &self.nodes[id].name
    }

    fn attr(&self, id: usize, key: &str) -> Option<&str> {
        self.nodes[id].attrs.iter().find(|(k, _)| k.as_ref() == key).map(|(_, v)| &**v)
    }

    fn children(&self, id: usize) -> impl Iterator<Item = usize> + '_ {
        self.nodes[id].kids.iter().filter_map(|k| match k {
            Kid::El(c) => Some(*c),
            Kid::Text(_) => None,
        })
    }

    fn child(&self, id: usize, name: &str) -> Option<usize> {
        self.children(id).find(|c| self.name(*c) == name)
    }

    fn children_named<'b>(&'b self, id: usize, name: &'b str) -> impl Iterator<Item = usize> + 'b {
        self.children(id).filter(move |c| self.name(*c) == name)
    }

    /// The first element named `name` at or below `id`, depth first.
    fn find(&self, id: usize, name: &str) -> Option<usize> {
        if self.name(id) == name {
            return Some(id);
        }
        self.children(id).find_map(|c| self.find(c, name))
    }

    /// Every element named `name` below `id` (not inside another match), in document order.
    fn find_all(&self, id: usize, name: &str, skip: &[&str], out: &mut Vec<usize>) {
        for c in self.children(id) {
            let n = self.name(c);
            if n == name {
                out.push(c);
            } else if !skip.contains(&n) {
                self.find_all(c, name, skip, out);
            }
        }
    }

    /// The text of `id`, inline markup flattened, whitespace collapsed.
    fn text(&self, id: usize) -> String {
        let mut out = String::new();
        self.flatten(id, &mut out, &[]);
        collapse(&out)
    }

    /// As [`Tree::text`], leaving out the subtrees named in `skip`.
    fn text_without(&self, id: usize, skip: &[&str]) -> String {
        let mut out = String::new();
        self.flatten(id, &mut out, skip);
        collapse(&out)
    }

    fn flatten(&self, id: usize, out: &mut String, skip: &[&str]) {
        let node = &self.nodes[id];
        let name = &*node.name;
        match name {
            "msup" | "msub" | "msubsup" | "mfrac" | "munderover" | "munder" | "mover" => {
                let marks: &[&str] = match name {
                    "msup" | "mover" => &["", "^"],
                    "msub" | "munder" => &["", "_"],
                    "msubsup" | "munderover" => &["", "_", "^"],
                    _ => &["", "/"],
                };
                for (i, c) in self.children(id).enumerate() {
                    out.push_str(marks.get(i).copied().unwrap_or(""));
                    self.flatten(c, out, skip);
                }
                return;
            }
            "annotation" | "annotation-xml" | "graphic" | "inline-graphic" | "media" | "object-id" => return,
            "alternatives" => {
                // A formula given as MathML and TeX (and images): the MathML only.
                if let Some(math) = self.child(id, "math") {
                    self.flatten(math, out, skip);
                    return;
                }
            }
            "break" => {
                out.push(' ');
                return;
            }
            _ => {}
        }
        let block = is_block(name);
        if block {
            out.push(' ');
        }
        for kid in &node.kids {
            match kid {
                Kid::Text(t) => out.push_str(t),
                Kid::El(c) => {
                    if !skip.contains(&self.name(*c)) {
                        self.flatten(*c, out, skip);
                    }
                }
            }
        }
        if block {
            out.push(' ');
        }
    }

    /// Text with a space between child elements (for `element-citation`, whose parts carry no punctuation).
    fn spaced_text(&self, id: usize) -> String {
        let mut out = String::new();
        for kid in &self.nodes[id].kids {
            match kid {
                Kid::Text(t) => out.push_str(t),
                Kid::El(c) => {
                    out.push(' ');
                    self.flatten(*c, &mut out, &[]);
                    out.push(' ');
                }
            }
        }
        collapse(&out)
    }
}

fn push_node<'a>(
    nodes: &mut Vec<Node<'a>>,
    stack: &[usize],
    xml: &'a [u8],
    e: &quick_xml::events::BytesStart<'_>,
) -> usize {
    let name_len = e.name().as_ref().len();
    // The tag's bytes lie inside the input (a slice reader borrows): take them with the input's lifetime.
    let raw: &[u8] = e;
    let (start, base) = (raw.as_ptr() as usize, xml.as_ptr() as usize);
    let content: Cow<'a, [u8]> = if start >= base && start + raw.len() <= base + xml.len() {
        Cow::Borrowed(&xml[start - base..start - base + raw.len()])
    } else {
        Cow::Owned(raw.to_vec())
    };
    let name = sub_cow(&content, local(&content[..name_len]));
    let mut attrs = Vec::new();
    if content.len() > name_len
        && let Ok(text) = std::str::from_utf8(&content)
    {
        let mut iter = quick_xml::events::attributes::Attributes::new(text, name_len);
        iter.with_checks(false);
        while let Some(Ok(a)) = iter.next() {
            let key = sub_cow(&content, local(a.key.as_ref()));
            let raw = sub_cow(&content, a.value.as_ref());
            let value = if raw.contains('&') {
                Cow::Owned(
                    quick_xml::escape::unescape(&raw)
                        .map(|v| v.into_owned())
                        .unwrap_or_else(|_| raw.into_owned()),
                )
            } else {
                raw
            };
            attrs.push((key, value));
        }
    }
    let id = nodes.len();
    nodes.push(Node { name, attrs, kids: Vec::new() });
    let parent = *stack.last().unwrap_or(&0);
    nodes[parent].kids.push(Kid::El(id));
    id
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "title"
            | "label"
            | "list-item"
            | "td"
            | "th"
            | "tr"
            | "caption"
            | "disp-formula"
            | "def-item"
            | "term"
            | "def"
            | "aff"
            | "addr-line"
            | "institution"
            | "country"
            | "sec"
    )
}

/// Collapses runs of whitespace to one space and trims; removes a space before closing punctuation that
/// block boundaries may have left.
pub(crate) fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for ch in text.chars() {
        if ch.is_whitespace() {
            space = !out.is_empty();
        } else {
            if space && !matches!(ch, ',' | '.' | ';' | ':' | ')' | ']') {
                out.push(' ');
            }
            space = false;
            out.push(ch);
        }
    }
    out
}

/// `PMC` + digits from any PMC id form (`PMC3040717`, `3040717`, `PMC3040717.1`); `None` when it is none.
pub fn normalize_pmcid(raw: &str) -> Option<String> {
    let t = raw.trim();
    let t = t.strip_prefix("PMC").or_else(|| t.strip_prefix("pmc")).unwrap_or(t);
    let digits = t.split('.').next().unwrap_or_default();
    (!digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("PMC{digits}"))
}

/// A DOI from `10.…`, `doi:10.…` or a `https://doi.org/10.…` URL; `None` when it is none.
pub fn normalize_doi(raw: &str) -> Option<String> {
    let t = raw.trim();
    let lower = t.to_ascii_lowercase();
    let start = lower.find("10.")?;
    let prefix = &lower[..start];
    if !(prefix.is_empty()
        || prefix.ends_with("doi:")
        || prefix.ends_with("doi.org/")
        || prefix.ends_with("doi: ")
        || prefix.ends_with("doi/")
        || prefix.ends_with("dx.doi.org/"))
    {
        return None;
    }
    let doi = t[start..].trim().trim_end_matches(['.', ',', ';']);
    (doi.contains('/') && doi.len() > 4 && !doi.chars().any(char::is_whitespace)).then(|| doi.to_owned())
}

/// Parses a JATS answer of any dialect.
pub fn parse_jats(xml: &[u8], source: Source) -> Result<JatsAnswer, ScrapeError> {
    let service = match source {
        Source::EuropePmc => Service::EuropePmc,
        Source::PmcDatasets => Service::PmcDatasets,
        Source::PmcEfetch => Service::PubMed,
        _ => Service::Pmc,
    };
    let tree = Tree::parse(xml, service)?;
    let Some(root) = tree.children(0).next() else {
        return Err(ScrapeError::parse(service, "an empty document, not JATS XML"));
    };
    let root_name = tree.name(root);
    let Some(article) = tree.find(root, "article") else {
        let message = tree.find(root, "error").map(|e| {
            let code = tree.attr(e, "code").unwrap_or_default();
            let text = tree.text(e);
            if code.is_empty() { text } else { format!("{code}: {text}") }
        });
        return Ok(match (root_name, message) {
            ("errorBean", _) => JatsAnswer::NotOpen(
                tree.find(root, "errMsg").map(|m| tree.text(m)).unwrap_or_else(|| "not available".into()),
            ),
            (_, Some(m))
                if m.contains("cannotDisseminateFormat")
                    || m.contains("idIsNotOpenAccess")
                    || m.to_ascii_lowercase().contains("not open access") =>
            {
                JatsAnswer::NotOpen(m)
            }
            (_, Some(m)) => JatsAnswer::NotFound(m),
            ("pmc-articleset", None) => JatsAnswer::NotFound("an empty article set".into()),
            (other, None) => {
                return Err(ScrapeError::parse(service, format!("no <article> in a <{other}> document")));
            }
        });
    };
    Ok(JatsAnswer::Article(Box::new(article_of(&tree, article, source))))
}

fn article_of(tree: &Tree<'_>, article: usize, source: Source) -> FullText {
    let mut ft = FullText::new(source);
    ft.article_type = tree.attr(article, "article-type").map(str::to_owned);
    let front = tree.child(article, "front");
    if let Some(front) = front {
        if let Some(jm) = tree.child(front, "journal-meta") {
            ft.journal = tree
                .find(jm, "journal-title")
                .map(|t| tree.text(t))
                .or_else(|| {
                    tree.children_named(jm, "journal-id")
                        .find(|j| tree.attr(*j, "journal-id-type") == Some("nlm-ta"))
                        .map(|j| tree.text(j))
                })
                .filter(|t| !t.is_empty());
            ft.publisher = tree.find(jm, "publisher-name").map(|t| tree.text(t)).filter(|t| !t.is_empty());
        }
        if let Some(meta) = tree.child(front, "article-meta") {
            front_meta(tree, meta, &mut ft);
        }
    }
    let mut sections = Vec::new();
    if let Some(body) = tree.child(article, "body") {
        sections = body_sections(tree, body);
    }
    let back = tree.child(article, "back");
    if let Some(back) = back {
        for sec in tree.children_named(back, "sec") {
            let s = section(tree, sec);
            if !s.paragraphs.is_empty() || !s.sections.is_empty() {
                sections.push(s);
            }
        }
        if let Some(ack) = tree.child(back, "ack") {
            let mut s = section(tree, ack);
            if s.title.is_empty() {
                s.title = "Acknowledgments".into();
            }
            sections.push(s);
        }
        let mut refs = Vec::new();
        tree.find_all(back, "ref", &[], &mut refs);
        ft.references = refs.into_iter().map(|r| reference(tree, r)).collect();
    }
    ft.sections = sections;
    // Captions anywhere outside the front matter and the references (body, floats-group, back).
    let mut floats = Vec::new();
    for part in tree.children(article) {
        if matches!(tree.name(part), "body" | "back" | "floats-group") {
            tree.find_all(part, "fig", &["ref-list", "fig"], &mut floats);
            tree.find_all(part, "table-wrap", &["ref-list", "table-wrap"], &mut floats);
        }
    }
    floats.sort_unstable();
    ft.captions = floats.into_iter().filter_map(|f| caption(tree, f)).collect();
    ft
}

fn front_meta(tree: &Tree<'_>, meta: usize, ft: &mut FullText) {
    let mut ids = ArticleIds::default();
    let mut pmc_candidates: [Option<String>; 5] = Default::default();
    for id in tree.children_named(meta, "article-id") {
        let value = tree.text(id);
        match tree.attr(id, "pub-id-type").unwrap_or_default() {
            "pmid"
                if ids.pmid.is_none() && !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) =>
            {
                ids.pmid = Some(value);
                continue;
            }
            "doi" if ids.doi.is_none() => {
                ids.doi = normalize_doi(&value);
                continue;
            }
            "pmcid" => pmc_candidates[0].get_or_insert(value),
            "pmc" => pmc_candidates[1].get_or_insert(value),
            "pmcid-ver" => {
                if let Some((_, v)) = value.rsplit_once('.') {
                    ids.pmc_version = v.parse().ok();
                }
                pmc_candidates[2].get_or_insert(value)
            }
            "accession" if value.starts_with("PMC") => pmc_candidates[2].get_or_insert(value),
            "pmc-uid" => pmc_candidates[3].get_or_insert(value),
            "pmcaid" => pmc_candidates[4].get_or_insert(value),
            _ => continue,
        };
    }
    ids.pmcid = pmc_candidates.iter().flatten().find_map(|v| normalize_pmcid(v));
    if ids.pmc_version.is_none()
        && let Some(v) = tree
            .children_named(meta, "article-version")
            .find(|v| tree.attr(*v, "article-version-type") == Some("pmc-version"))
    {
        ids.pmc_version = tree.text(v).parse().ok();
    }
    ft.ids = ids;
    if let Some(tg) = tree.child(meta, "title-group")
        && let Some(t) = tree.child(tg, "article-title")
    {
        ft.title = tree.text(t);
    }
    // Affiliations by id (article-meta, contrib-groups), each without its label.
    let mut affs: Vec<usize> = Vec::new();
    tree.find_all(meta, "aff", &["ref-list"], &mut affs);
    let aff_text = |a: usize| tree.text_without(a, &["label", "sup"]);
    let unlinked: Vec<String> =
        affs.iter().filter(|a| tree.attr(**a, "id").is_none()).map(|a| aff_text(*a)).collect();
    for group in tree.children_named(meta, "contrib-group") {
        for contrib in tree.children_named(group, "contrib") {
            let kind = tree.attr(contrib, "contrib-type").unwrap_or("author");
            if kind != "author" {
                continue;
            }
            let name = author_name(tree, contrib);
            if name.is_empty() {
                continue;
            }
            let mut affiliations: Vec<String> = Vec::new();
            for x in tree.children_named(contrib, "xref") {
                if tree.attr(x, "ref-type") != Some("aff") {
                    continue;
                }
                for rid in tree.attr(x, "rid").unwrap_or_default().split_whitespace() {
                    if let Some(a) = affs.iter().find(|a| tree.attr(**a, "id") == Some(rid)) {
                        let t = aff_text(*a);
                        if !t.is_empty() && !affiliations.contains(&t) {
                            affiliations.push(t);
                        }
                    }
                }
            }
            for a in tree.children_named(contrib, "aff") {
                affiliations.push(aff_text(a));
            }
            if affiliations.is_empty() {
                affiliations.clone_from(&unlinked);
            }
            let orcid = tree
                .children_named(contrib, "contrib-id")
                .find(|c| tree.attr(*c, "contrib-id-type") == Some("orcid"))
                .map(|c| {
                    tree.text(c)
                        .trim_start_matches("https://orcid.org/")
                        .trim_start_matches("http://orcid.org/")
                        .to_owned()
                });
            ft.authors.push(FullTextAuthor { name, affiliations, orcid });
        }
    }
    for d in tree.children_named(meta, "pub-date") {
        let kind =
            tree.attr(d, "pub-type").or_else(|| tree.attr(d, "date-type")).unwrap_or("published").to_owned();
        if let Some(date) = date_of(tree, d) {
            ft.dates.push(ArticleDate { kind, date });
        }
    }
    let field = |name: &str| tree.child(meta, name).map(|c| tree.text(c)).filter(|t| !t.is_empty());
    ft.volume = field("volume");
    ft.issue = field("issue");
    ft.pages = match (field("fpage"), field("lpage")) {
        (Some(f), Some(l)) if f != l => Some(format!("{f}-{l}")),
        (Some(f), _) => Some(f),
        _ => field("elocation-id"),
    };
    if let Some(perm) = tree.child(meta, "permissions")
        && let Some(lic) = tree.child(perm, "license")
    {
        ft.license_url = tree
            .attr(lic, "href")
            .map(str::to_owned)
            .or_else(|| tree.child(lic, "license_ref").map(|r| tree.text(r)))
            .filter(|u| !u.is_empty());
        let p: Vec<String> = tree.children_named(lic, "license-p").map(|p| tree.text(p)).collect();
        ft.license = Some(p.join(" "))
            .filter(|t| !t.is_empty())
            .or_else(|| tree.attr(lic, "license-type").map(str::to_owned));
    }
    // The article's abstract: the first one that is not a graphical, teaser or other special abstract.
    let abstracts: Vec<usize> = tree.children_named(meta, "abstract").collect();
    let main = abstracts
        .iter()
        .copied()
        .find(|a| {
            !matches!(
                tree.attr(*a, "abstract-type"),
                Some(
                    "graphical"
                        | "teaser"
                        | "toc"
                        | "precis"
                        | "web-summary"
                        | "editor"
                        | "author-highlights"
                )
            )
        })
        .or_else(|| abstracts.first().copied());
    if let Some(a) = main {
        ft.abstract_text = Some(abstract_text(tree, a)).filter(|t| !t.is_empty());
    }
    for group in tree.children_named(meta, "kwd-group") {
        for k in tree.children_named(group, "kwd") {
            let t = tree.text(k);
            if !t.is_empty() {
                ft.keywords.push(t);
            }
        }
    }
}

fn author_name(tree: &Tree<'_>, contrib: usize) -> String {
    if let Some(name) = tree
        .child(contrib, "name")
        .or_else(|| tree.child(contrib, "name-alternatives").and_then(|n| tree.child(n, "name")))
    {
        let given = tree.child(name, "given-names").map(|g| tree.text(g)).unwrap_or_default();
        let surname = tree.child(name, "surname").map(|s| tree.text(s)).unwrap_or_default();
        let suffix = tree.child(name, "suffix").map(|s| tree.text(s)).unwrap_or_default();
        return collapse(&format!("{given} {surname} {suffix}"));
    }
    if let Some(s) = tree.child(contrib, "string-name") {
        return tree.text(s);
    }
    tree.child(contrib, "collab").map(|c| tree.text(c)).unwrap_or_default()
}

fn date_of(tree: &Tree<'_>, d: usize) -> Option<String> {
    let part = |name: &str| tree.child(d, name).map(|c| tree.text(c)).and_then(|t| t.parse::<u32>().ok());
    let year = part("year")?;
    Some(match (part("month"), part("day")) {
        (Some(m), Some(day)) if (1..=12).contains(&m) => format!("{year:04}-{m:02}-{day:02}"),
        (Some(m), _) if (1..=12).contains(&m) => format!("{year:04}-{m:02}"),
        _ => format!("{year:04}"),
    })
}

fn abstract_text(tree: &Tree<'_>, a: usize) -> String {
    let mut parts: Vec<String> = Vec::new();
    fn walk(tree: &Tree<'_>, id: usize, parts: &mut Vec<String>) {
        let mut title: Option<String> = None;
        for c in tree.children(id) {
            match tree.name(c) {
                "title" | "label" => {
                    let t = tree.text(c);
                    if !t.is_empty() && !t.eq_ignore_ascii_case("abstract") {
                        title = Some(t);
                    }
                }
                "p" => {
                    let t = tree.text(c);
                    if t.is_empty() {
                        continue;
                    }
                    match title.take() {
                        Some(label) => parts.push(format!("{}: {t}", label.trim_end_matches([':', '.']))),
                        None => parts.push(t),
                    }
                }
                "sec" => walk(tree, c, parts),
                _ => {}
            }
        }
    }
    walk(tree, a, &mut parts);
    parts.join("\n\n")
}

/// Elements of a section that are not running text.
const NOT_TEXT: &[&str] = &["fig", "table-wrap", "fig-group", "table-wrap-group", "supplementary-material"];

fn body_sections(tree: &Tree<'_>, body: usize) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut loose = Section::default();
    for c in tree.children(body) {
        match tree.name(c) {
            "sec" => {
                if !loose.paragraphs.is_empty() {
                    out.push(std::mem::take(&mut loose));
                }
                let s = section(tree, c);
                if !s.paragraphs.is_empty() || !s.sections.is_empty() {
                    out.push(s);
                }
            }
            name => paragraph_into(tree, c, name, &mut loose),
        }
    }
    if !loose.paragraphs.is_empty() {
        out.push(loose);
    }
    out
}

fn paragraph_into(tree: &Tree<'_>, c: usize, name: &str, s: &mut Section) {
    match name {
        "p" | "list" | "disp-quote" | "disp-formula" | "def-list" | "preformat" | "speech" | "statement"
        | "verse-group" => {
            let t = tree.text_without(c, NOT_TEXT);
            if !t.is_empty() {
                s.paragraphs.push(t);
            }
        }
        "boxed-text" => {
            let inner = section(tree, c);
            if !inner.paragraphs.is_empty() || !inner.sections.is_empty() {
                s.sections.push(inner);
            }
        }
        _ => {}
    }
}

fn section(tree: &Tree<'_>, sec: usize) -> Section {
    let mut s = Section::default();
    let mut label = String::new();
    for c in tree.children(sec) {
        match tree.name(c) {
            "label" => label = tree.text(c),
            "title" => s.title = tree.text(c),
            "sec" => {
                let sub = section(tree, c);
                if !sub.paragraphs.is_empty() || !sub.sections.is_empty() {
                    s.sections.push(sub);
                }
            }
            "caption" => {
                // boxed-text carries its title in a caption.
                if s.title.is_empty()
                    && let Some(t) = tree.child(c, "title")
                {
                    s.title = tree.text(t);
                }
            }
            name => paragraph_into(tree, c, name, &mut s),
        }
    }
    if !label.is_empty() && !s.title.starts_with(&label) {
        s.title = collapse(&format!("{label} {}", s.title));
    }
    s
}

fn caption(tree: &Tree<'_>, f: usize) -> Option<Caption> {
    let kind = if tree.name(f) == "fig" { CaptionKind::Figure } else { CaptionKind::Table };
    let label = tree
        .child(f, "label")
        .map(|l| tree.text(l).trim_end_matches(['.', ':']).to_owned())
        .filter(|l| !l.is_empty());
    let text = tree.child(f, "caption").map(|c| tree.text(c)).unwrap_or_default();
    (label.is_some() || !text.is_empty()).then_some(Caption { kind, label, text })
}

fn reference(tree: &Tree<'_>, r: usize) -> Reference {
    let mut out = Reference {
        label: tree.child(r, "label").map(|l| tree.text(l)).filter(|l| !l.is_empty()),
        ..Reference::default()
    };
    let citation = tree.children(r).find(|c| {
        matches!(tree.name(*c), "element-citation" | "mixed-citation" | "citation" | "nlm-citation")
    });
    let Some(cit) = citation else {
        out.text = tree.text_without(r, &["label"]);
        return out;
    };
    out.text = if tree.name(cit) == "mixed-citation" { tree.text(cit) } else { tree.spaced_text(cit) };
    out.title = tree.child(cit, "article-title").map(|t| tree.text(t)).filter(|t| !t.is_empty());
    let mut ids = Vec::new();
    tree.find_all(cit, "pub-id", &[], &mut ids);
    for id in ids {
        let v = tree.text(id);
        match tree.attr(id, "pub-id-type").unwrap_or_default() {
            "pmid" if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() => out.pmid = Some(v),
            "pmcid" | "pmc" => out.pmcid = normalize_pmcid(&v),
            "doi" => out.doi = normalize_doi(&v),
            _ => {}
        }
    }
    if out.doi.is_none() {
        let mut links = Vec::new();
        tree.find_all(cit, "ext-link", &[], &mut links);
        out.doi = links.into_iter().find_map(|l| {
            (tree.attr(l, "ext-link-type") == Some("doi")).then(|| normalize_doi(&tree.text(l))).flatten()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_normalize() {
        assert_eq!(normalize_pmcid("PMC3040717.1").as_deref(), Some("PMC3040717"));
        assert_eq!(normalize_pmcid("3258128").as_deref(), Some("PMC3258128"));
        assert_eq!(normalize_pmcid("NIHMS1"), None);
        assert_eq!(normalize_doi("https://doi.org/10.1/ab.c.").as_deref(), Some("10.1/ab.c"));
        assert_eq!(
            normalize_doi("doi: 10.1158/0008-5472.CAN-09-4563").as_deref(),
            Some("10.1158/0008-5472.CAN-09-4563")
        );
        assert_eq!(normalize_doi("110.5/x"), None);
        assert_eq!(normalize_doi("info:doi/10.5/x").as_deref(), Some("10.5/x"));
    }

    #[test]
    fn inline_markup_and_mathml_in_titles() {
        let xml = br#"<article xmlns:mml="http://www.w3.org/1998/Math/MathML"><front><article-meta>
            <article-id pub-id-type="pmc">42</article-id>
            <title-group><article-title>Effect of <italic>BRAF</italic><sup>V600E</sup> on
            <inline-formula><alternatives><mml:math><mml:msup><mml:mi>x</mml:mi><mml:mn>2</mml:mn></mml:msup></mml:math><tex-math>x^{2}</tex-math></alternatives></inline-formula> growth</article-title></title-group>
            </article-meta></front><body><p>Text with <xref ref-type="bibr" rid="r1">1</xref> and <fig><label>Figure 1</label><caption><p>Cap</p></caption></fig>end.</p></body>
            <back><ref-list><ref id="r1"><element-citation><article-title>Other</article-title><pub-id pub-id-type="pmid">999</pub-id><pub-id pub-id-type="doi">10.9/other</pub-id></element-citation></ref></ref-list></back></article>"#;
        let JatsAnswer::Article(a) = parse_jats(xml, Source::PmcEfetch).expect("parses") else {
            panic!("an article")
        };
        assert_eq!(a.title, "Effect of BRAFV600E on x^2 growth");
        assert_eq!(a.ids.pmcid.as_deref(), Some("PMC42"));
        assert_eq!(a.ids.pmid, None, "a reference's PMID is not the article's");
        assert_eq!(a.ids.doi, None);
        assert_eq!(a.sections[0].paragraphs, ["Text with 1 and end."]);
        assert_eq!(a.captions[0].text, "Cap");
        assert_eq!(a.references[0].pmid.as_deref(), Some("999"));
    }

    #[test]
    fn error_answers() {
        let oai = br#"<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="idDoesNotExist">no</error></OAI-PMH>"#;
        assert!(matches!(parse_jats(oai, Source::PmcOai), Ok(JatsAnswer::NotFound(_))));
        let oai = br#"<OAI-PMH><error code="cannotDisseminateFormat">x</error></OAI-PMH>"#;
        assert!(matches!(parse_jats(oai, Source::PmcOai), Ok(JatsAnswer::NotOpen(_))));
        let efetch = b"<pmc-articleset><error>invalid id</error></pmc-articleset>";
        assert!(matches!(parse_jats(efetch, Source::PmcEfetch), Ok(JatsAnswer::NotFound(_))));
        assert!(parse_jats(b"<article><front>", Source::PmcDatasets).is_err(), "truncated");
        assert!(parse_jats(b"", Source::PmcDatasets).is_err());
    }
}
