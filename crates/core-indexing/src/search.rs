//! Searching: tantivy query syntax over default fields and boosts, filters, sort, pagination
//! and highlighted snippets, fanned out over the shards and merged.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::time::Instant;

use serde_json::Value;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, OwnedValue};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Searcher, TantivyDocument, Term};

use crate::error::IndexError;
use crate::ingest::source_of;
use crate::loaded::LoadedIndex;
use crate::manager::IndexManager;
use crate::metrics::now_secs;
use crate::schema::{FieldType, parse_date_value};
use crate::types::{Filter, SearchHit, SearchRequest, SearchResponse, Snippet, SortOrder};

const MAX_LIMIT: usize = 1000;
const MAX_OFFSET: usize = 10_000;
const SNIPPET_CHARS: usize = 200;

/// Resolves field names, refusing unknown ones with an error naming `param`.
fn fields_of(idx: &LoadedIndex, names: &[String], param: &str) -> Result<Vec<Field>, IndexError> {
    names
        .iter()
        .map(|n| {
            idx.schema
                .field(n)
                .map(|(_, f)| *f)
                .ok_or_else(|| IndexError::invalid(param, format!("field `{n}` is not in the schema")))
        })
        .collect()
}

/// Parses a query in tantivy syntax over the given (or default) fields.
pub(crate) fn parse_query(
    idx: &LoadedIndex,
    query: &str,
    fields: &[String],
    boosts: &BTreeMap<String, f32>,
) -> Result<Box<dyn Query>, IndexError> {
    let trimmed = query.trim();
    if trimmed.is_empty() || trimmed == "*" {
        return Ok(Box::new(AllQuery));
    }
    let default_fields = if fields.is_empty() {
        idx.schema.default_search_fields(&idx.options().default_search_fields)
    } else {
        for name in fields {
            if idx.schema.field(name).is_some_and(|(d, _)| !d.indexed) {
                return Err(IndexError::invalid("fields", format!("field `{name}` is not indexed")));
            }
        }
        fields_of(idx, fields, "fields")?
    };
    let mut parser = QueryParser::for_index(&idx.shards[0].index, default_fields);
    for (name, boost) in boosts {
        if !boost.is_finite() || *boost < 0.0 {
            return Err(IndexError::invalid(
                "boosts",
                format!("boost of `{name}` must be a finite number ≥ 0"),
            ));
        }
        let field = fields_of(idx, std::slice::from_ref(name), "boosts")?[0];
        parser.set_field_boost(field, *boost);
    }
    parser.parse_query(trimmed).map_err(|e| {
        IndexError::invalid(
            "query",
            format!("{e} (tantivy query syntax: `a AND b`, `\"a phrase\"`, `field:term`, `field:[1 TO 5]`)"),
        )
    })
}

fn value_term(kind: FieldType, field: Field, v: &Value) -> Result<Term, String> {
    let bad = || format!("value {v} does not fit a {kind} field");
    Ok(match kind {
        FieldType::String | FieldType::Text => match v {
            Value::String(s) => Term::from_field_text(field, s),
            Value::Number(n) => Term::from_field_text(field, &n.to_string()),
            _ => return Err(bad()),
        },
        FieldType::I64 => Term::from_field_i64(field, v.as_i64().ok_or_else(bad)?),
        FieldType::U64 => Term::from_field_u64(field, v.as_u64().ok_or_else(bad)?),
        FieldType::F64 => Term::from_field_f64(field, v.as_f64().ok_or_else(bad)?),
        FieldType::Bool => Term::from_field_bool(field, v.as_bool().ok_or_else(bad)?),
        FieldType::Date => Term::from_field_date_for_search(field, parse_date_value(v).ok_or_else(bad)?),
        FieldType::Json => {
            return Err(
                "filters on json fields are not supported; use `field.path:value` in the query".into()
            );
        }
    })
}

fn filter_query(idx: &LoadedIndex, filter: &Filter) -> Result<Box<dyn Query>, IndexError> {
    let invalid =
        |reason: String| IndexError::invalid("filters", format!("field `{}`: {reason}", filter.field));
    let (def, field) = idx.schema.field(&filter.field).ok_or_else(|| invalid("not in the schema".into()))?;
    if !def.indexed && !def.fast {
        return Err(invalid("neither indexed nor fast".into()));
    }
    let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(eq) = &filter.eq {
        let values: Vec<&Value> = match eq {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        if values.is_empty() {
            return Err(invalid("`eq` is an empty list".into()));
        }
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for v in values {
            let q: Box<dyn Query> = match def.kind {
                FieldType::Text => {
                    let text = v.as_str().ok_or_else(|| invalid(format!("value {v} is not a string")))?;
                    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
                    let parser = QueryParser::for_index(&idx.shards[0].index, vec![*field]);
                    parser.parse_query(&format!("\"{escaped}\"")).map_err(|e| invalid(e.to_string()))?
                }
                FieldType::String if def.indexed => Box::new(TermQuery::new(
                    value_term(def.kind, *field, v).map_err(invalid)?,
                    IndexRecordOption::Basic,
                )),
                FieldType::Bool if def.indexed => Box::new(TermQuery::new(
                    value_term(def.kind, *field, v).map_err(invalid)?,
                    IndexRecordOption::Basic,
                )),
                _ => {
                    let t = value_term(def.kind, *field, v).map_err(invalid)?;
                    Box::new(RangeQuery::new(Bound::Included(t.clone()), Bound::Included(t)))
                }
            };
            alternatives.push((Occur::Should, q));
        }
        let q: Box<dyn Query> = if alternatives.len() == 1 {
            alternatives.pop().map(|(_, q)| q).unwrap_or_else(|| Box::new(AllQuery))
        } else {
            Box::new(BooleanQuery::new(alternatives))
        };
        parts.push((Occur::Must, q));
    }
    let bound = |v: &Option<Value>, inclusive: bool| -> Result<Option<Bound<Term>>, IndexError> {
        match v {
            None => Ok(None),
            Some(v) => {
                if matches!(def.kind, FieldType::Text | FieldType::Json | FieldType::Bool) {
                    return Err(invalid(format!(
                        "ranges apply to numbers, dates and strings, not {}",
                        def.kind
                    )));
                }
                let t = value_term(def.kind, *field, v).map_err(invalid)?;
                Ok(Some(if inclusive { Bound::Included(t) } else { Bound::Excluded(t) }))
            }
        }
    };
    let lower = match (bound(&filter.gt, false)?, bound(&filter.gte, true)?) {
        (Some(_), Some(_)) => return Err(invalid("give `gt` or `gte`, not both".into())),
        (a, b) => a.or(b),
    };
    let upper = match (bound(&filter.lt, false)?, bound(&filter.lte, true)?) {
        (Some(_), Some(_)) => return Err(invalid("give `lt` or `lte`, not both".into())),
        (a, b) => a.or(b),
    };
    if lower.is_some() || upper.is_some() {
        parts.push((
            Occur::Must,
            Box::new(RangeQuery::new(lower.unwrap_or(Bound::Unbounded), upper.unwrap_or(Bound::Unbounded))),
        ));
    }
    if parts.is_empty() {
        return Err(invalid("give `eq` or a range (`gt`, `gte`, `lt`, `lte`)".into()));
    }
    Ok(Box::new(BooleanQuery::new(parts)))
}

/// The full query of a request: the text query, with every filter as a non-scoring clause.
fn build_query(idx: &LoadedIndex, req: &SearchRequest) -> Result<Box<dyn Query>, IndexError> {
    let main = parse_query(idx, &req.query, &req.fields, &req.boosts)?;
    if req.filters.is_empty() {
        return Ok(main);
    }
    let mut clauses = vec![(Occur::Must, main)];
    for f in &req.filters {
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(filter_query(idx, f)?, 0.0)) as Box<dyn Query>,
        ));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

fn owned_to_json(v: &OwnedValue) -> Value {
    match v {
        OwnedValue::Null => Value::Null,
        OwnedValue::Str(s) => Value::String(s.clone()),
        OwnedValue::U64(n) => Value::from(*n),
        OwnedValue::I64(n) => Value::from(*n),
        OwnedValue::F64(n) => Value::from(*n),
        OwnedValue::Bool(b) => Value::Bool(*b),
        OwnedValue::Date(d) => chrono::DateTime::from_timestamp(d.into_timestamp_secs(), 0)
            .map_or(Value::Null, |t| Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
        other => Value::String(format!("{other:?}")),
    }
}

fn cmp_owned(a: &OwnedValue, b: &OwnedValue) -> Ordering {
    use OwnedValue::*;
    match (a, b) {
        (Null, Null) => Ordering::Equal,
        (Null, _) => Ordering::Less,
        (_, Null) => Ordering::Greater,
        (I64(x), I64(y)) => x.cmp(y),
        (U64(x), U64(y)) => x.cmp(y),
        (F64(x), F64(y)) => x.total_cmp(y),
        (Bool(x), Bool(y)) => x.cmp(y),
        (Date(x), Date(y)) => x.cmp(y),
        (Str(x), Str(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

enum Key {
    Score(f32),
    Field(OwnedValue),
}

struct Candidate {
    shard: usize,
    address: DocAddress,
    key: Key,
}

fn run(idx: &LoadedIndex, req: &SearchRequest) -> Result<(u64, Vec<SearchHit>), IndexError> {
    let limit = req.limit.unwrap_or(10);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(IndexError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}")));
    }
    let offset = req.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(IndexError::invalid("offset", format!("must be at most {MAX_OFFSET}")));
    }
    if let Some(fields) = &req.return_fields {
        fields_of(idx, fields, "return_fields")?;
    }
    let highlight_fields = if !req.highlight {
        Vec::new()
    } else if req.highlight_fields.is_empty() {
        let names: Vec<String> = if req.fields.is_empty() {
            let defaults = idx.schema.default_search_fields(&idx.options().default_search_fields);
            idx.schema
                .fields
                .iter()
                .filter(|(_, f)| defaults.contains(f))
                .map(|(d, _)| d.name.clone())
                .collect()
        } else {
            req.fields.clone()
        };
        names
            .into_iter()
            .filter(|n| idx.schema.field(n).is_some_and(|(d, _)| d.kind == FieldType::Text && d.stored))
            .collect()
    } else {
        for n in &req.highlight_fields {
            match idx.schema.field(n) {
                Some((d, _)) if d.kind == FieldType::Text && d.indexed => {}
                Some(_) => {
                    return Err(IndexError::invalid(
                        "highlight_fields",
                        format!("field `{n}` is not an indexed text field"),
                    ));
                }
                None => {
                    return Err(IndexError::invalid(
                        "highlight_fields",
                        format!("field `{n}` is not in the schema"),
                    ));
                }
            }
        }
        req.highlight_fields.clone()
    };
    let sort = req.sort.as_ref().filter(|s| s.field != "_score");
    if let Some(s) = sort {
        match idx.schema.field(&s.field) {
            Some((d, _)) if d.fast => {}
            Some(_) => {
                return Err(IndexError::invalid(
                    "sort",
                    format!("field `{}` is not a fast field; only fast fields sort", s.field),
                ));
            }
            None => {
                return Err(IndexError::invalid("sort", format!("field `{}` is not in the schema", s.field)));
            }
        }
    }
    let query = build_query(idx, req)?;
    let searchers: Vec<Searcher> = idx.searchers();
    let wanted = offset + limit;
    let mut total = 0u64;
    let mut candidates: Vec<Candidate> = Vec::new();
    let engine = |e| IndexError::engine(&idx.id, "searching", e);
    for (shard, searcher) in searchers.iter().enumerate() {
        match sort {
            None => {
                let (count, top) = searcher
                    .search(&*query, &(Count, TopDocs::with_limit(wanted).order_by_score()))
                    .map_err(engine)?;
                total += count as u64;
                candidates.extend(top.into_iter().map(|(score, address)| Candidate {
                    shard,
                    address,
                    key: Key::Score(score),
                }));
            }
            Some(s) => {
                let order = match s.order {
                    SortOrder::Asc => Order::Asc,
                    SortOrder::Desc => Order::Desc,
                };
                let collector = TopDocs::with_limit(wanted)
                    .order_by((tantivy::collector::sort_key::SortByErasedType::for_field(&s.field), order));
                let (count, top) = searcher.search(&*query, &(Count, collector)).map_err(engine)?;
                total += count as u64;
                candidates.extend(top.into_iter().map(|(v, address)| Candidate {
                    shard,
                    address,
                    key: Key::Field(v),
                }));
            }
        }
    }
    let descending = sort.is_none_or(|s| s.order == SortOrder::Desc);
    candidates.sort_by(|a, b| {
        let primary = match (&a.key, &b.key) {
            (Key::Score(x), Key::Score(y)) => x.total_cmp(y),
            (Key::Field(x), Key::Field(y)) => cmp_owned(x, y),
            _ => Ordering::Equal,
        };
        let primary = if descending { primary.reverse() } else { primary };
        primary.then(a.shard.cmp(&b.shard)).then(a.address.cmp(&b.address))
    });
    let mut generators: HashMap<(usize, String), SnippetGenerator> = HashMap::new();
    let mut hits = Vec::new();
    for c in candidates.into_iter().skip(offset).take(limit) {
        let searcher = &searchers[c.shard];
        let doc: TantivyDocument =
            searcher.doc(c.address).map_err(|e| IndexError::engine(&idx.id, "reading a hit", e))?;
        let source = source_of(idx, &doc)?;
        let doc_id = match source.get(&idx.schema.def.id_field) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let mut snippets = Vec::new();
        for name in &highlight_fields {
            let text = match source.get(name) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(items)) => {
                    items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" … ")
                }
                _ => continue,
            };
            let key = (c.shard, name.clone());
            if !generators.contains_key(&key) {
                let field = fields_of(idx, std::slice::from_ref(name), "highlight_fields")?[0];
                let mut generator = SnippetGenerator::create(searcher, &*query, field)
                    .map_err(|e| IndexError::engine(&idx.id, "preparing snippets", e))?;
                generator.set_max_num_chars(SNIPPET_CHARS);
                generators.insert(key.clone(), generator);
            }
            let Some(generator) = generators.get(&key) else {
                continue;
            };
            let snippet = generator.snippet(&text);
            if snippet.is_empty() || snippet.highlighted().is_empty() {
                continue;
            }
            snippets.push(Snippet {
                field: name.clone(),
                fragment: snippet.fragment().to_string(),
                highlights: snippet.highlighted().iter().map(|r| [r.start, r.end]).collect(),
                html: snippet.to_html(),
            });
        }
        let (score, sort_value) = match c.key {
            Key::Score(s) => (Some(s), None),
            Key::Field(v) => (None, Some(owned_to_json(&v))),
        };
        hits.push(SearchHit {
            doc_id,
            score,
            sort_value,
            document: idx.schema.stored_view(source, req.return_fields.as_deref()),
            snippets,
        });
    }
    Ok((total, hits))
}

impl IndexManager {
    /// Searches an index. Records the query in the index's metrics (latency, errors).
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResponse, IndexError> {
        let idx = self.loaded(&req.id)?;
        let started = Instant::now();
        let result = run(&idx, req);
        let micros = started.elapsed().as_micros() as u64;
        {
            let mut store = idx.metrics.lock();
            store.record_query(now_secs(), micros, result.is_ok());
            store.maybe_flush(self.config.metrics_flush_interval);
        }
        metrics::counter!("pipette_index_queries_total", "index" => req.id.clone()).increment(1);
        metrics::histogram!("pipette_index_query_seconds", "index" => req.id.clone())
            .record(micros as f64 / 1e6);
        if result.is_err() {
            metrics::counter!("pipette_index_query_errors_total", "index" => req.id.clone()).increment(1);
        }
        let (total_hits, hits) = result?;
        Ok(SearchResponse { id: req.id.clone(), total_hits, hits, took_micros: micros })
    }
}
