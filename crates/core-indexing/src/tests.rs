//! Manager-level tests on temporary data directories.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::*;

struct Fixture {
    dir: tempfile::TempDir,
    mgr: IndexManager,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mgr = IndexManager::open(config_for(dir.path())).unwrap();
    Fixture { dir, mgr }
}

fn config_for(root: &std::path::Path) -> IndexConfig {
    let mut config = IndexConfig::with_dirs(root.join("data"), root.join("inputs"));
    std::fs::create_dir_all(root.join("inputs")).unwrap();
    config.default_options.writer_memory_mb = 30;
    config
}

fn articles_schema() -> SchemaSpec {
    SchemaSpec::from_json(&json!({
        "id_field": "id",
        "fields": [
            {"name": "id", "type": "string", "fast": true},
            {"name": "title", "type": "text", "tokenizer": "en_stem"},
            {"name": "body", "type": "text"},
            {"name": "year", "type": "i64", "fast": true},
            {"name": "score", "type": "f64", "fast": true},
            {"name": "status", "type": "string", "fast": true},
            {"name": "open", "type": "bool"},
            {"name": "published", "type": "date", "fast": true},
            {"name": "secret", "type": "string", "stored": false},
            {"name": "meta", "type": "json"}
        ]
    }))
    .unwrap()
}

fn create(mgr: &IndexManager, id: &str, shards: usize, options: Option<IndexOptions>) -> IndexStatus {
    mgr.create(&CreateRequest { id: id.into(), schema: articles_schema(), shards: Some(shards), options })
        .unwrap()
}

fn docs(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "id": format!("doc-{i}"),
                "title": format!("BRAF mutations in melanoma study {i}"),
                "body": if i % 2 == 0 { "vemurafenib improved survival in patients" } else { "EGFR L858R lung cancer osimertinib" },
                "year": 2000 + (i % 20) as i64,
                "score": i as f64 / 10.0,
                "status": if i % 3 == 0 { "RECRUITING" } else { "COMPLETED" },
                "open": i % 2 == 0,
                "published": format!("{}-01-15", 2000 + (i % 20)),
                "secret": "hidden",
                "meta": {"source": "test", "n": i}
            })
        })
        .collect()
}

fn add(mgr: &IndexManager, id: &str, documents: Vec<Value>) -> AddResponse {
    mgr.add(&AddRequest { id: id.into(), documents: Some(documents), ..AddRequest::default() }, &no_progress)
        .unwrap()
}

fn search(mgr: &IndexManager, req: SearchRequest) -> SearchResponse {
    mgr.search(&req).unwrap()
}

fn ids(resp: &SearchResponse) -> Vec<String> {
    resp.hits.iter().map(|h| h.doc_id.clone()).collect()
}

fn invalid_name(err: &IndexError) -> &str {
    match err {
        IndexError::InvalidArgument { name, .. } => name,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn manager_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<IndexManager>();
    check::<Arc<IndexManager>>();
}

#[test]
fn ids_that_are_paths_are_refused_everywhere() {
    let f = fixture();
    for bad in ["../escape", "a/b", "a\0b", "..", "", "x y"] {
        let err = f
            .mgr
            .create(&CreateRequest { id: bad.into(), schema: articles_schema(), shards: None, options: None })
            .unwrap_err();
        assert_eq!(invalid_name(&err), "id", "{bad:?}");
        assert_eq!(invalid_name(&f.mgr.status(&IndexRef::new(bad)).unwrap_err()), "id");
        assert_eq!(invalid_name(&f.mgr.search(&SearchRequest::new(bad, "x")).unwrap_err()), "id");
        assert_eq!(invalid_name(&f.mgr.drop_index(&IndexRef::new(bad)).unwrap_err()), "id");
    }
    // nothing escaped the data directory
    assert!(!f.dir.path().join("escape").exists());
}

#[test]
fn create_request_with_unknown_type_lists_accepted_types() {
    let err = serde_json::from_value::<CreateRequest>(json!({
        "id": "x", "schema": {"fields": [{"name": "n", "type": "number"}]}
    }))
    .unwrap_err()
    .to_string();
    assert!(err.contains("unknown field type `number`"), "{err}");
    assert!(err.contains("text, string, i64, u64, f64, bool, date, json"), "{err}");
}

#[test]
fn lifecycle_create_list_status_unload_load_drop() {
    let f = fixture();
    let status = create(&f.mgr, "papers", 2, None);
    assert!(status.loaded);
    assert_eq!(status.shards, 2);
    assert_eq!(status.docs, 0);
    assert!(status.last_commit.is_some());
    let err = f
        .mgr
        .create(&CreateRequest {
            id: "papers".into(),
            schema: articles_schema(),
            shards: None,
            options: None,
        })
        .unwrap_err();
    assert!(matches!(err, IndexError::AlreadyExists { .. }));
    assert_eq!(err.kind(), "conflict");
    let err = f
        .mgr
        .create(&CreateRequest {
            id: "zero".into(),
            schema: articles_schema(),
            shards: Some(0),
            options: None,
        })
        .unwrap_err();
    assert_eq!(invalid_name(&err), "shards");

    add(&f.mgr, "papers", docs(10));
    let status = f.mgr.status(&IndexRef::new("papers")).unwrap();
    assert_eq!(status.docs, 10);
    assert!(status.writer_open);
    assert!(status.bytes_on_disk > 0);
    assert!(status.memory_estimate_bytes >= 30 * 1024 * 1024);

    let list = f.mgr.list().unwrap();
    assert_eq!(list.indexes.len(), 1);
    assert_eq!(list.indexes[0].docs, 10);

    assert!(f.mgr.unload(&IndexRef::new("papers")).unwrap().was_loaded);
    assert!(!f.mgr.unload(&IndexRef::new("papers")).unwrap().was_loaded);
    let cold = f.mgr.status(&IndexRef::new("papers")).unwrap();
    assert!(!cold.loaded);
    assert_eq!(cold.docs, 10);
    assert_eq!(cold.memory_estimate_bytes, 0);
    assert_eq!(f.mgr.list().unwrap().indexes[0].docs, 10);

    let loaded = f.mgr.load(&IndexRef::new("papers")).unwrap();
    assert!(loaded.loaded);
    assert!(!loaded.writer_open);
    assert_eq!(loaded.docs, 10);

    let dropped = f.mgr.drop_index(&IndexRef::new("papers")).unwrap();
    assert!(dropped.bytes_freed > 0);
    assert!(f.mgr.list().unwrap().indexes.is_empty());
    assert!(matches!(f.mgr.status(&IndexRef::new("papers")), Err(IndexError::NotFound { .. })));
    assert!(matches!(f.mgr.search(&SearchRequest::new("papers", "x")), Err(IndexError::NotFound { .. })));
    assert_eq!(f.mgr.unload(&IndexRef::new("papers")).unwrap_err().kind(), "not_found");
}

#[test]
fn add_reports_rejections_with_positions_and_keeps_going() {
    let f = fixture();
    create(&f.mgr, "a", 1, None);
    let mut input = docs(5);
    input.insert(1, json!({"title": "no id"}));
    input.insert(3, json!({"id": "bad-year", "year": "twenty"}));
    input.insert(5, json!("not an object"));
    input.push(json!({"id": "unknown", "color": "red"}));
    let resp = add(&f.mgr, "a", input);
    assert_eq!((resp.added, resp.updated, resp.rejected), (5, 0, 4));
    let got: Vec<(u64, Option<&str>)> =
        resp.rejections.iter().map(|r| (r.position, r.doc_id.as_deref())).collect();
    assert_eq!(got, vec![(1, None), (3, Some("bad-year")), (5, None), (8, Some("unknown"))]);
    assert!(resp.rejections[0].reason.contains("missing id field `id`"));
    assert!(resp.rejections[1].reason.contains("field `year`"));
    assert!(resp.rejections[2].reason.contains("JSON object"));
    assert!(resp.rejections[3].reason.contains("unknown field `color`"));
    assert_eq!(resp.commits, 1);
    assert_eq!(f.mgr.status(&IndexRef::new("a")).unwrap().docs, 5);
}

#[test]
fn upsert_semantics() {
    let f = fixture();
    create(&f.mgr, "u", 3, None);
    let resp = add(&f.mgr, "u", docs(6));
    assert_eq!((resp.added, resp.updated), (6, 0));
    // same ids again: replaced, not duplicated
    let mut again = docs(6);
    again[0]["title"] = json!("a replaced title");
    let resp = add(&f.mgr, "u", again);
    assert_eq!((resp.added, resp.updated), (0, 6));
    assert_eq!(f.mgr.status(&IndexRef::new("u")).unwrap().docs, 6);
    let got = f.mgr.get(&GetRequest { id: "u".into(), doc_id: "doc-0".into() }).unwrap();
    assert_eq!(got.document.unwrap()["title"], "a replaced title");
    // duplicates inside one request: the last one wins
    let resp =
        add(&f.mgr, "u", vec![json!({"id": "dup", "title": "one"}), json!({"id": "dup", "title": "two"})]);
    assert_eq!((resp.added, resp.updated), (1, 1));
    let got = f.mgr.get(&GetRequest { id: "u".into(), doc_id: "dup".into() }).unwrap();
    assert_eq!(got.document.unwrap()["title"], "two");
    assert_eq!(f.mgr.status(&IndexRef::new("u")).unwrap().docs, 7);
    // upsert=false: existing ids are rejected, new ones added
    let resp = f
        .mgr
        .add(
            &AddRequest {
                id: "u".into(),
                documents: Some(vec![json!({"id": "dup", "title": "three"}), json!({"id": "new"})]),
                upsert: Some(false),
                ..AddRequest::default()
            },
            &no_progress,
        )
        .unwrap();
    assert_eq!((resp.added, resp.updated, resp.rejected), (1, 0, 1));
    assert!(resp.rejections[0].reason.contains("upsert=false"));
    let got = f.mgr.get(&GetRequest { id: "u".into(), doc_id: "dup".into() }).unwrap();
    assert_eq!(got.document.unwrap()["title"], "two");
}

#[test]
fn batches_commit_and_report_progress() {
    let f = fixture();
    let options = IndexOptions { commit_batch_size: 7, writer_memory_mb: 30, ..IndexOptions::default() };
    create(&f.mgr, "b", 1, Some(options));
    let seen = parking_lot::Mutex::new(Vec::new());
    let progress = |cur: u64, total: Option<u64>, _msg: &str| seen.lock().push((cur, total));
    let resp = f
        .mgr
        .add(&AddRequest { id: "b".into(), documents: Some(docs(20)), ..AddRequest::default() }, &progress)
        .unwrap();
    assert_eq!(resp.commits, 3);
    assert_eq!(*seen.lock(), vec![(7, Some(20)), (14, Some(20)), (20, Some(20))]);
}

#[test]
fn jsonl_input_under_allowed_roots_only() {
    let f = fixture();
    create(&f.mgr, "j", 1, None);
    let inputs = f.dir.path().join("inputs");
    let mut text = String::new();
    for d in docs(3) {
        text.push_str(&d.to_string());
        text.push('\n');
    }
    text.push('\n');
    text.push_str("{not json\n");
    text.push_str(&json!({"id": "last"}).to_string());
    std::fs::write(inputs.join("in.jsonl"), &text).unwrap();
    let req = |path: String| AddRequest { id: "j".into(), jsonl_path: Some(path), ..AddRequest::default() };
    let resp = f.mgr.add(&req(inputs.join("in.jsonl").display().to_string()), &no_progress).unwrap();
    assert_eq!((resp.added, resp.rejected), (4, 1));
    assert_eq!(resp.rejections[0].position, 3);
    assert_eq!(resp.rejections[0].line, Some(5));
    assert!(resp.rejections[0].reason.contains("invalid JSON"));
    // the JSONL line itself is the stored source
    let got = f.mgr.get(&GetRequest { id: "j".into(), doc_id: "doc-1".into() }).unwrap();
    assert_eq!(got.document.unwrap()["year"], 2001);

    // outside the roots: refused, also through a symlink and through `..`
    let outside = f.dir.path().join("outside.jsonl");
    std::fs::write(&outside, &text).unwrap();
    let err = f.mgr.add(&req(outside.display().to_string()), &no_progress).unwrap_err();
    assert!(matches!(err, IndexError::PathNotAllowed { .. }), "{err}");
    assert_eq!(err.kind(), "invalid_argument");
    std::os::unix::fs::symlink(&outside, inputs.join("link.jsonl")).unwrap();
    let err = f.mgr.add(&req(inputs.join("link.jsonl").display().to_string()), &no_progress).unwrap_err();
    assert!(matches!(err, IndexError::PathNotAllowed { .. }), "{err}");
    let err =
        f.mgr.add(&req(inputs.join("../outside.jsonl").display().to_string()), &no_progress).unwrap_err();
    assert!(matches!(err, IndexError::PathNotAllowed { .. }), "{err}");
    let err = f.mgr.add(&req(inputs.join("missing.jsonl").display().to_string()), &no_progress).unwrap_err();
    assert_eq!(err.kind(), "io");
    // both or neither input
    let err = f.mgr.add(&AddRequest { id: "j".into(), ..AddRequest::default() }, &no_progress).unwrap_err();
    assert_eq!(invalid_name(&err), "documents");
}

#[test]
fn paths_outside_the_roots_answer_alike_whether_or_not_they_exist() {
    let f = fixture();
    create(&f.mgr, "o", 1, None);
    let existing = f.dir.path().join("exists-outside.jsonl");
    std::fs::write(&existing, "{\"id\": \"x\"}\n").unwrap();
    let missing = f.dir.path().join("no_such_zz.jsonl");
    let req = |path: &std::path::Path| AddRequest {
        id: "o".into(),
        jsonl_path: Some(path.display().to_string()),
        ..AddRequest::default()
    };
    let a = f.mgr.add(&req(&existing), &no_progress).unwrap_err();
    let b = f.mgr.add(&req(&missing), &no_progress).unwrap_err();
    assert!(matches!(a, IndexError::PathNotAllowed { .. }), "{a}");
    assert!(matches!(b, IndexError::PathNotAllowed { .. }), "{b}");
    assert_eq!(a.kind(), b.kind());
    // with the roots replaced, the other folder is allowed and the first is not
    f.mgr.set_allowed_roots(vec![f.dir.path().to_path_buf()]);
    assert_eq!(f.mgr.add(&req(&existing), &no_progress).unwrap().added, 1);
    f.mgr.set_allowed_roots(Vec::new());
    let c = f.mgr.add(&req(&existing), &no_progress).unwrap_err();
    assert!(c.to_string().contains("none is configured"), "{c}");
}

#[test]
fn search_features() {
    let f = fixture();
    create(&f.mgr, "s", 1, None);
    add(&f.mgr, "s", docs(40));

    // term, with stemming on the title (en_stem): "mutation" finds "mutations"
    let r = search(&f.mgr, SearchRequest::new("s", "title:mutation"));
    assert_eq!(r.total_hits, 40);
    assert_eq!(r.hits.len(), 10);
    // phrase
    let r = search(&f.mgr, SearchRequest::new("s", "\"improved survival\""));
    assert_eq!(r.total_hits, 20);
    // boolean
    let r = search(&f.mgr, SearchRequest::new("s", "osimertinib AND -vemurafenib AND year:2001"));
    assert_eq!(r.total_hits, 2);
    assert!(ids(&r).iter().all(|id| id == "doc-1" || id == "doc-21"));
    // all
    assert_eq!(search(&f.mgr, SearchRequest::new("s", "*")).total_hits, 40);

    // filters: equality, list of alternatives, numeric range, date range, bool
    let mut req = SearchRequest::new("s", "");
    req.filters = vec![
        Filter { field: "status".into(), eq: Some(json!("RECRUITING")), ..Filter::default() },
        Filter { field: "year".into(), gte: Some(json!(2010)), lt: Some(json!(2015)), ..Filter::default() },
    ];
    let r = search(&f.mgr, req.clone());
    let expected = (0..40).filter(|i| i % 3 == 0 && (10..15).contains(&(i % 20))).count() as u64;
    assert_eq!(r.total_hits, expected);
    req.filters =
        vec![Filter { field: "published".into(), gte: Some(json!("2018-01-01")), ..Filter::default() }];
    assert_eq!(search(&f.mgr, req.clone()).total_hits, 4);
    req.filters = vec![Filter { field: "year".into(), eq: Some(json!([2001, 2002])), ..Filter::default() }];
    assert_eq!(search(&f.mgr, req.clone()).total_hits, 4);
    req.filters = vec![Filter { field: "open".into(), eq: Some(json!(true)), ..Filter::default() }];
    assert_eq!(search(&f.mgr, req.clone()).total_hits, 20);
    req.filters = vec![Filter { field: "body".into(), eq: Some(json!("lung cancer")), ..Filter::default() }];
    assert_eq!(search(&f.mgr, req.clone()).total_hits, 20);
    // filters do not change scores
    let plain = search(&f.mgr, SearchRequest::new("s", "vemurafenib"));
    let mut filtered = SearchRequest::new("s", "vemurafenib");
    filtered.filters = vec![Filter { field: "year".into(), gte: Some(json!(0)), ..Filter::default() }];
    assert_eq!(plain.hits[0].score, search(&f.mgr, filtered).hits[0].score);

    // sort by a fast field, both ways, with pagination
    let mut req = SearchRequest::new("s", "*");
    req.sort = Some(SortSpec { field: "score".into(), order: SortOrder::Desc });
    req.limit = Some(3);
    let r = search(&f.mgr, req.clone());
    assert_eq!(ids(&r), vec!["doc-39", "doc-38", "doc-37"]);
    assert_eq!(r.hits[0].sort_value, Some(json!(3.9)));
    assert!(r.hits[0].score.is_none());
    req.offset = Some(3);
    assert_eq!(ids(&search(&f.mgr, req.clone())), vec!["doc-36", "doc-35", "doc-34"]);
    req.sort = Some(SortSpec { field: "score".into(), order: SortOrder::Asc });
    req.offset = None;
    assert_eq!(ids(&search(&f.mgr, req.clone())), vec!["doc-0", "doc-1", "doc-2"]);
    req.sort = Some(SortSpec { field: "published".into(), order: SortOrder::Desc });
    let r = search(&f.mgr, req.clone());
    assert_eq!(r.hits[0].sort_value, Some(json!("2019-01-15T00:00:00Z")));

    // fields, boosts, return_fields, unstored fields
    let mut req = SearchRequest::new("s", "melanoma OR osimertinib");
    req.fields = vec!["body".into()];
    assert_eq!(search(&f.mgr, req.clone()).total_hits, 20);
    req.fields = vec!["title".into(), "body".into()];
    req.boosts = [("body".to_string(), 10.0)].into();
    let r = search(&f.mgr, req.clone());
    assert_eq!(r.total_hits, 40);
    let top = &r.hits[0];
    assert!(top.document["body"].as_str().unwrap().contains("osimertinib"));
    assert!(top.document.get("secret").is_none(), "unstored field returned");
    req.return_fields = Some(vec!["title".into()]);
    let r = search(&f.mgr, req.clone());
    assert_eq!(r.hits[0].document.as_object().unwrap().len(), 1);

    // json field through the query syntax
    assert_eq!(search(&f.mgr, SearchRequest::new("s", "meta.source:test")).total_hits, 40);

    // highlight
    let mut req = SearchRequest::new("s", "vemurafenib");
    req.highlight = true;
    let r = search(&f.mgr, req);
    let snippet = &r.hits[0].snippets[0];
    assert_eq!(snippet.field, "body");
    let [start, end] = snippet.highlights[0];
    assert_eq!(&snippet.fragment[start..end], "vemurafenib");
    assert!(snippet.html.contains("<b>vemurafenib</b>"));
    assert!(r.took_micros > 0);
}

#[test]
fn search_errors_name_the_parameter() {
    let f = fixture();
    create(&f.mgr, "e", 1, None);
    add(&f.mgr, "e", docs(3));
    let check = |req: SearchRequest, name: &str| {
        let err = f.mgr.search(&req).unwrap_err();
        assert_eq!(invalid_name(&err), name, "{err}");
        assert!(!err.retryable());
    };
    check(SearchRequest::new("e", "title:(unclosed"), "query");
    check(SearchRequest::new("e", "nosuchfield:x"), "query");
    let mut req = SearchRequest::new("e", "x");
    req.fields = vec!["nope".into()];
    check(req, "fields");
    let mut req = SearchRequest::new("e", "x");
    req.limit = Some(0);
    check(req, "limit");
    let mut req = SearchRequest::new("e", "x");
    req.offset = Some(1_000_000);
    check(req, "offset");
    let mut req = SearchRequest::new("e", "x");
    req.sort = Some(SortSpec { field: "title".into(), order: SortOrder::Asc });
    check(req, "sort");
    let mut req = SearchRequest::new("e", "x");
    req.filters = vec![Filter { field: "title".into(), gt: Some(json!(1)), ..Filter::default() }];
    check(req, "filters");
    let mut req = SearchRequest::new("e", "x");
    req.filters = vec![Filter { field: "year".into(), ..Filter::default() }];
    check(req, "filters");
    let mut req = SearchRequest::new("e", "x");
    req.filters = vec![Filter { field: "year".into(), eq: Some(json!("soon")), ..Filter::default() }];
    check(req, "filters");
    let mut req = SearchRequest::new("e", "x");
    req.boosts = [("title".to_string(), f32::NAN)].into();
    check(req, "boosts");
    // errors are counted in the metrics
    let m = f.mgr.metrics(&MetricsRequest { id: Some("e".into()), window: Window::Hour }).unwrap();
    assert_eq!(m.queries, 10);
    assert_eq!(m.errors, 10);
}

#[test]
fn sharded_search_merges_by_score_and_paginates() {
    let f = fixture();
    create(&f.mgr, "one", 1, None);
    create(&f.mgr, "four", 4, None);
    let input = docs(101);
    add(&f.mgr, "one", input.clone());
    add(&f.mgr, "four", input);
    let st = f.mgr.status(&IndexRef::new("four")).unwrap();
    assert_eq!((st.docs, st.shards), (101, 4));
    for q in ["melanoma", "\"lung cancer\"", "osimertinib OR year:2003", "*"] {
        let a = search(&f.mgr, SearchRequest::new("one", q));
        let b = search(&f.mgr, SearchRequest::new("four", q));
        assert_eq!(a.total_hits, b.total_hits, "{q}");
        let scores: Vec<f32> = b.hits.iter().filter_map(|h| h.score).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{q}: not merged by score: {scores:?}");
        // every match is reachable by paging, exactly once
        let mut all = Vec::new();
        for page in 0..11 {
            let mut req = SearchRequest::new("four", q);
            req.offset = Some(page * 10);
            all.extend(ids(&search(&f.mgr, req)));
        }
        all.sort();
        all.dedup();
        assert_eq!(all.len() as u64, b.total_hits, "{q}");
    }
    // documents spread over the shards, and get finds each one
    for i in 0..101 {
        let got = f.mgr.get(&GetRequest { id: "four".into(), doc_id: format!("doc-{i}") }).unwrap();
        assert!(got.found, "doc-{i}");
    }
    let mut req = SearchRequest::new("four", "*");
    req.sort = Some(SortSpec { field: "year".into(), order: SortOrder::Asc });
    req.limit = Some(6);
    let years: Vec<Value> = search(&f.mgr, req).hits.into_iter().filter_map(|h| h.sort_value).collect();
    assert_eq!(years, vec![json!(2000); 6]);
}

#[test]
fn delete_by_ids_and_query_and_get() {
    let f = fixture();
    create(&f.mgr, "d", 2, None);
    add(&f.mgr, "d", docs(30));
    let r = f
        .mgr
        .delete(&DeleteRequest {
            id: "d".into(),
            doc_ids: Some(vec!["doc-1".into(), "doc-2".into(), "missing".into(), "doc-1".into()]),
            query: None,
        })
        .unwrap();
    assert_eq!(r.deleted, 2);
    let got = f.mgr.get(&GetRequest { id: "d".into(), doc_id: "doc-1".into() }).unwrap();
    assert!(!got.found && got.document.is_none());
    let r = f
        .mgr
        .delete(&DeleteRequest { id: "d".into(), doc_ids: None, query: Some("year:2003".into()) })
        .unwrap();
    assert_eq!(r.deleted, 2);
    assert_eq!(f.mgr.status(&IndexRef::new("d")).unwrap().docs, 26);
    assert_eq!(search(&f.mgr, SearchRequest::new("d", "year:2003")).total_hits, 0);
    let got = f.mgr.get(&GetRequest { id: "d".into(), doc_id: "doc-4".into() }).unwrap();
    let doc = got.document.unwrap();
    assert_eq!(doc["meta"]["n"], 4);
    assert!(doc.get("secret").is_none());
    let err = f.mgr.delete(&DeleteRequest { id: "d".into(), doc_ids: None, query: None }).unwrap_err();
    assert_eq!(invalid_name(&err), "doc_ids");
    let err =
        f.mgr.delete(&DeleteRequest { id: "d".into(), doc_ids: None, query: Some("(".into()) }).unwrap_err();
    assert_eq!(invalid_name(&err), "query");
}

#[test]
fn reshard_keeps_every_document() {
    let f = fixture();
    create(&f.mgr, "r", 1, None);
    add(&f.mgr, "r", docs(250));
    f.mgr
        .delete(&DeleteRequest { id: "r".into(), doc_ids: Some(vec!["doc-0".into()]), query: None })
        .unwrap();
    let before = search(&f.mgr, SearchRequest::new("r", "melanoma")).total_hits;
    let resp = f.mgr.reshard(&ReshardRequest { id: "r".into(), shards: 3 }, &no_progress).unwrap();
    assert_eq!((resp.shards_before, resp.shards_after), (1, 3));
    assert_eq!((resp.docs_before, resp.docs_after), (249, 249));
    assert_eq!(f.mgr.status(&IndexRef::new("r")).unwrap().shards, 3);
    assert_eq!(search(&f.mgr, SearchRequest::new("r", "melanoma")).total_hits, before);
    for i in 1..250 {
        let got = f.mgr.get(&GetRequest { id: "r".into(), doc_id: format!("doc-{i}") }).unwrap();
        assert_eq!(got.document.map(|d| d["score"].clone()), Some(json!(i as f64 / 10.0)), "doc-{i}");
    }
    // unstored fields survive too (the source is kept)
    let mut req = SearchRequest::new("r", "secret:hidden");
    req.limit = Some(1);
    assert_eq!(search(&f.mgr, req).total_hits, 249);
    // writes go to the new shards; a reopen sees the new layout; old generations are gone
    add(&f.mgr, "r", vec![json!({"id": "after"})]);
    let back = f.mgr.reshard(&ReshardRequest { id: "r".into(), shards: 1 }, &no_progress).unwrap();
    assert_eq!(back.docs_after, 250);
    drop(f.mgr);
    let mgr = IndexManager::open(config_for(f.dir.path())).unwrap();
    assert_eq!(mgr.status(&IndexRef::new("r")).unwrap().docs, 250);
    let gens: Vec<_> = std::fs::read_dir(f.dir.path().join("data/r"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('g'))
        .collect();
    assert_eq!(gens, vec!["g3".to_string()]);
    let err = mgr.reshard(&ReshardRequest { id: "r".into(), shards: 0 }, &no_progress).unwrap_err();
    assert_eq!(invalid_name(&err), "shards");
}

#[test]
fn optimize_reduces_segments() {
    let f = fixture();
    let options = IndexOptions {
        commit_batch_size: 10,
        merge_policy: MergePolicySetting::None,
        writer_memory_mb: 30,
        ..IndexOptions::default()
    };
    create(&f.mgr, "o", 2, Some(options));
    add(&f.mgr, "o", docs(100));
    f.mgr.delete(&DeleteRequest { id: "o".into(), doc_ids: None, query: Some("year:2001".into()) }).unwrap();
    let before = f.mgr.status(&IndexRef::new("o")).unwrap();
    assert!(before.segments >= 10, "{}", before.segments);
    let resp =
        f.mgr.optimize(&OptimizeRequest { id: "o".into(), target_segments: None }, &no_progress).unwrap();
    assert_eq!(resp.segments_before, before.segments);
    assert_eq!(resp.segments_after, 2);
    assert!(resp.bytes_after < resp.bytes_before, "{resp:?}");
    assert_eq!(f.mgr.status(&IndexRef::new("o")).unwrap().docs, 95);
    assert_eq!(search(&f.mgr, SearchRequest::new("o", "melanoma")).total_hits, 95);
    // target > 1
    add(&f.mgr, "o", docs(200).split_off(100));
    let resp =
        f.mgr.optimize(&OptimizeRequest { id: "o".into(), target_segments: Some(3) }, &no_progress).unwrap();
    assert!(resp.segments_after <= 6, "{resp:?}");
    assert_eq!(f.mgr.status(&IndexRef::new("o")).unwrap().docs, 195);
}

#[test]
fn metrics_survive_reopen() {
    let f = fixture();
    create(&f.mgr, "m", 1, None);
    create(&f.mgr, "n", 1, None);
    add(&f.mgr, "m", docs(50));
    add(&f.mgr, "n", docs(5));
    for _ in 0..9 {
        search(&f.mgr, SearchRequest::new("m", "melanoma"));
    }
    f.mgr.search(&SearchRequest::new("m", "(")).unwrap_err();
    search(&f.mgr, SearchRequest::new("n", "melanoma"));
    let m = f.mgr.metrics(&MetricsRequest { id: Some("m".into()), window: Window::Hour }).unwrap();
    assert_eq!((m.queries, m.errors, m.ingests, m.docs_ingested), (10, 1, 1, 50));
    assert!(m.latency.p99_ms >= m.latency.p50_ms && m.latency.p50_ms > 0.0);
    assert!(m.ingest_docs_per_sec > 0.0);
    drop(f.mgr);
    let mgr = IndexManager::open(config_for(f.dir.path())).unwrap();
    for window in [Window::Hour, Window::Day, Window::Week] {
        let m = mgr.metrics(&MetricsRequest { id: Some("m".into()), window }).unwrap();
        assert_eq!((m.queries, m.errors, m.docs_ingested), (10, 1, 50), "{window:?}");
        assert!((m.error_rate - 0.1).abs() < 1e-9);
    }
    let all = mgr.metrics(&MetricsRequest { id: None, window: Window::Day }).unwrap();
    assert_eq!((all.queries, all.docs_ingested), (11, 55));
    assert_eq!(all.indexes, vec!["m".to_string(), "n".to_string()]);
    assert!(matches!(
        mgr.metrics(&MetricsRequest { id: Some("zz".into()), window: Window::Hour }),
        Err(IndexError::NotFound { .. })
    ));
}

#[test]
fn second_writer_is_refused_and_reads_go_on() {
    let f = fixture();
    create(&f.mgr, "w", 2, None);
    add(&f.mgr, "w", docs(10));
    // another manager over the same directory stands for another process
    let other = IndexManager::open(config_for(f.dir.path())).unwrap();
    let err = other
        .add(&AddRequest { id: "w".into(), documents: Some(docs(1)), ..AddRequest::default() }, &no_progress)
        .unwrap_err();
    assert!(matches!(err, IndexError::WriterBusy { .. }), "{err}");
    assert_eq!(err.kind(), "conflict");
    assert!(err.retryable());
    assert!(err.to_string().contains("another process"));
    assert_eq!(other.drop_index(&IndexRef::new("w")).unwrap_err().kind(), "conflict");
    // reads are not blocked
    assert_eq!(search(&other, SearchRequest::new("w", "melanoma")).total_hits, 10);
    // once the first lets go, the second may write; and it sees the change at once
    f.mgr.unload(&IndexRef::new("w")).unwrap();
    add(&other, "w", vec![json!({"id": "from-other"})]);
    assert!(f.mgr.get(&GetRequest { id: "w".into(), doc_id: "from-other".into() }).unwrap().found);
    assert_eq!(f.mgr.status(&IndexRef::new("w")).unwrap().docs, 11);
}

#[test]
fn searches_run_while_writing() {
    let f = fixture();
    let options = IndexOptions { commit_batch_size: 50, writer_memory_mb: 30, ..IndexOptions::default() };
    create(&f.mgr, "c", 2, Some(options));
    add(&f.mgr, "c", docs(10));
    let mgr = Arc::new(f.mgr);
    let writer = {
        let mgr = mgr.clone();
        std::thread::spawn(move || {
            let input: Vec<Value> = docs(600).split_off(10);
            mgr.add(
                &AddRequest { id: "c".into(), documents: Some(input), ..AddRequest::default() },
                &no_progress,
            )
            .map(|r| r.added)
        })
    };
    let mut last = 0;
    let mut searches = 0;
    while !writer.is_finished() || searches < 5 {
        let hits = mgr.search(&SearchRequest::new("c", "melanoma")).unwrap().total_hits;
        assert!(hits >= last, "hit count went back from {last} to {hits}");
        last = hits;
        searches += 1;
    }
    assert_eq!(writer.join().unwrap().unwrap(), 590);
    assert_eq!(mgr.search(&SearchRequest::new("c", "melanoma")).unwrap().total_hits, 600);
}

#[test]
fn config_get_and_update() {
    let f = fixture();
    create(&f.mgr, "k", 1, None);
    add(&f.mgr, "k", docs(3));
    let c = f.mgr.config_get(&IndexRef::new("k")).unwrap();
    assert_eq!(c.options.writer_memory_mb, 30);
    let c = f
        .mgr
        .config_update(&ConfigUpdateRequest {
            id: "k".into(),
            writer_memory_mb: Some(40),
            commit_batch_size: Some(2),
            merge_policy: Some(MergePolicySetting::None),
            default_search_fields: Some(vec!["body".into()]),
            ..ConfigUpdateRequest::default()
        })
        .unwrap();
    assert_eq!(
        c.changed,
        vec!["writer_memory_mb", "merge_policy", "commit_batch_size", "default_search_fields"]
    );
    assert!(!c.needs_rebuild);
    // the new batch size and default fields are in force, and survive a reopen
    assert_eq!(add(&f.mgr, "k", docs(5)).commits, 3);
    assert_eq!(search(&f.mgr, SearchRequest::new("k", "melanoma")).total_hits, 0);
    assert_eq!(search(&f.mgr, SearchRequest::new("k", "vemurafenib")).total_hits, 3);
    drop(f.mgr);
    let mgr = IndexManager::open(config_for(f.dir.path())).unwrap();
    assert_eq!(mgr.config_get(&IndexRef::new("k")).unwrap().options.commit_batch_size, 2);
    let c = mgr
        .config_update(&ConfigUpdateRequest {
            id: "k".into(),
            shards: Some(4),
            ..ConfigUpdateRequest::default()
        })
        .unwrap();
    assert!(c.needs_rebuild);
    assert!(c.note.unwrap().contains("reshard"));
    assert_eq!(c.shards, 1);
    let err = mgr
        .config_update(&ConfigUpdateRequest {
            id: "k".into(),
            commit_batch_size: Some(0),
            ..ConfigUpdateRequest::default()
        })
        .unwrap_err();
    assert_eq!(invalid_name(&err), "commit_batch_size");
    let err = mgr
        .config_update(&ConfigUpdateRequest {
            id: "k".into(),
            default_search_fields: Some(vec!["zz".into()]),
            ..ConfigUpdateRequest::default()
        })
        .unwrap_err();
    assert_eq!(invalid_name(&err), "default_search_fields");
    // strict=false keeps unknown fields unindexed but stored
    mgr.config_update(&ConfigUpdateRequest {
        id: "k".into(),
        strict: Some(false),
        ..ConfigUpdateRequest::default()
    })
    .unwrap();
    let r = add(&mgr, "k", vec![json!({"id": "loose", "color": "red"})]);
    assert_eq!(r.rejected, 0);
    let got = mgr.get(&GetRequest { id: "k".into(), doc_id: "loose".into() }).unwrap();
    assert_eq!(got.document.unwrap()["color"], "red");
}

#[test]
fn research_results_upsert_into_builtin_indexes() {
    let f = fixture();
    let article = json!({ "pmid": "22663011", "title": "Improved survival with vemurafenib in melanoma with BRAF V600E mutation",
        "abstract": "BACKGROUND: Phase 1 and 2 clinical trials of the BRAF kinase inhibitor vemurafenib showed response rates.",
        "authors": ["Paul B Chapman"], "journal": "The New England journal of medicine",
        "year": 2011, "pub_date": "2011-06-30", "mesh": ["Melanoma"] });
    let r = f
        .mgr
        .upsert_research("lit", BuiltinSchema::Pubmed, vec![article.clone(), json!({"title": "no pmid"})])
        .unwrap();
    assert_eq!((r.added, r.rejected), (1, 1));
    let r = f.mgr.upsert_research("lit", BuiltinSchema::Pubmed, vec![article]).unwrap();
    assert_eq!((r.added, r.updated), (0, 1));
    let status = f.mgr.status(&IndexRef::new("lit")).unwrap();
    assert_eq!(status.builtin, Some(BuiltinSchema::Pubmed));
    let mut req = SearchRequest::new("lit", "braf inhibitors");
    req.filters = vec![Filter { field: "year".into(), eq: Some(json!(2011)), ..Filter::default() }];
    req.highlight = true;
    let hit = &search(&f.mgr, req).hits[0];
    assert_eq!(hit.doc_id, "22663011");
    assert!(!hit.snippets.is_empty());

    let trial = json!({"nct_id": "NCT06604689", "title": "Osimertinib in EGFR L858R NSCLC", "status": "RECRUITING",
        "phases": ["PHASE2"], "conditions": ["Non-small Cell Lung Cancer"], "enrollment": 120, "start_date": "2024-10",
        "completion_date": "unknown", "eligibility": "Inclusion: EGFR L858R", "match_score": 0.9});
    let r = f.mgr.upsert_research("trials", BuiltinSchema::Trials, vec![trial]).unwrap();
    assert_eq!((r.added, r.rejected), (1, 0), "an unreadable date is left out, not the document: {r:?}");
    let mut req = SearchRequest::new("trials", "l858r");
    req.filters = vec![Filter { field: "status".into(), eq: Some(json!("RECRUITING")), ..Filter::default() }];
    assert_eq!(search(&f.mgr, req).total_hits, 1);
    let err = f.mgr.upsert_research("lit", BuiltinSchema::Trials, Vec::new()).unwrap_err();
    assert_eq!(invalid_name(&err), "index");
}

#[test]
fn uncommitted_writes_are_lost_but_the_index_opens() {
    // The process-level SIGKILL test lives with the binary; here: a writer that goes away
    // without committing leaves the index at its last commit.
    let f = fixture();
    create(&f.mgr, "k", 1, None);
    add(&f.mgr, "k", docs(5));
    f.mgr.unload(&IndexRef::new("k")).unwrap();
    let shard = f.dir.path().join("data/k/g1/shard-000");
    {
        let index = tantivy::Index::open_in_dir(&shard).unwrap();
        let mut writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
        let schema = index.schema();
        let title = schema.get_field("title").unwrap();
        writer.add_document(tantivy::doc!(title => "uncommitted")).unwrap();
        writer.rollback().unwrap();
    }
    let mgr = IndexManager::open(config_for(f.dir.path())).unwrap();
    assert_eq!(mgr.status(&IndexRef::new("k")).unwrap().docs, 5);
    assert_eq!(search(&mgr, SearchRequest::new("k", "uncommitted")).total_hits, 0);
    add(&mgr, "k", docs(6));
    assert_eq!(mgr.status(&IndexRef::new("k")).unwrap().docs, 6);
}

#[test]
fn a_reshard_elsewhere_is_followed_by_writers_here() {
    let f = fixture();
    create(&f.mgr, "g", 1, None);
    add(&f.mgr, "g", docs(20));
    f.mgr.unload(&IndexRef::new("g")).unwrap();
    // this process has it loaded (read side) while "another process" reshards it
    let other = IndexManager::open(config_for(f.dir.path())).unwrap();
    assert_eq!(search(&other, SearchRequest::new("g", "*")).total_hits, 20);
    f.mgr.reshard(&ReshardRequest { id: "g".into(), shards: 2 }, &no_progress).unwrap();
    f.mgr.unload(&IndexRef::new("g")).unwrap();
    add(&other, "g", vec![json!({"id": "late"})]);
    let status = other.status(&IndexRef::new("g")).unwrap();
    assert_eq!((status.shards, status.docs), (2, 21));
}
