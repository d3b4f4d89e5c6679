//! The guard's verdicts on raw bytes: which id and code each malformed message is answered with.

use serde_json::{Value, json};

use super::{Checked, INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR, bounded, check, salvage_id};

/// `input` is refused with one answer of `code` carrying `id`, whose message contains `says`.
#[track_caller]
fn refused(input: &[u8], id: Value, code: i32, says: &str) {
    match check(input) {
        Checked::Refused(r) => {
            assert_eq!(r.len(), 1, "{r:?}");
            assert_eq!((&r[0].id, r[0].code), (&id, code), "{r:?}");
            assert!(r[0].message.contains(says), "{:?} should say {says:?}", r[0].message);
            assert!(r[0].message.len() <= 1100, "bounded: {} bytes", r[0].message.len());
        }
        other => panic!(
            "expected a refusal for {:?}, got {other:?}",
            String::from_utf8_lossy(&input[..input.len().min(200)])
        ),
    }
}

#[track_caller]
fn passes(input: &[u8]) {
    assert!(matches!(check(input), Checked::Message(_)), "{:?}", String::from_utf8_lossy(input));
}

#[track_caller]
fn ignored(input: &[u8]) {
    assert!(matches!(check(input), Checked::Ignore), "{:?}", String::from_utf8_lossy(input));
}

fn deep(n: usize) -> Vec<u8> {
    let mut v =
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"health","arguments":{"a":"#
            .to_vec();
    v.extend(std::iter::repeat_n(b'[', n));
    v.extend(std::iter::repeat_n(b']', n));
    v.extend_from_slice(b"}}}");
    v
}

#[test]
fn what_is_not_json_is_answered_with_the_id_it_carries() {
    refused(&deep(10_000), json!(1), INVALID_REQUEST, "deeper than 128");
    refused(
        br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"health","arguments":{"a":"\ud800"}}}"#,
        json!(2),
        PARSE_ERROR,
        "hex escape",
    );
    refused(
        b"{\"jsonrpc\":\"2.0\",\"id\":\"u\",\"method\":\"ping\",\"x\":\"\xff\xfe\"}",
        json!("u"),
        PARSE_ERROR,
        "not valid JSON",
    );
    refused(br#"{"jsonrpc":"2.0","id":4,"method":"ping"} garbage"#, json!(4), PARSE_ERROR, "trailing");
    refused(br#"{"jsonrpc":"2.0","id":5,"method":"#, json!(5), PARSE_ERROR, "not valid JSON");
    refused(br#"{"jsonrpc":"2.0","method":"ping","#, Value::Null, PARSE_ERROR, "not valid JSON");
    refused(b"\x00\x00", Value::Null, PARSE_ERROR, "not valid JSON");
}

#[test]
fn envelope_errors_keep_the_id() {
    refused(br#"{"jsonrpc":"1.0","id":5,"method":"ping"}"#, json!(5), INVALID_REQUEST, r#"must be "2.0""#);
    refused(br#"{"id":"s","method":"ping"}"#, json!("s"), INVALID_REQUEST, "missing");
    refused(br#"{"jsonrpc":"2.0","id":10}"#, json!(10), INVALID_REQUEST, "needs a `method`");
    refused(
        br#"{"jsonrpc":"2.0","id":11,"method":7}"#,
        json!(11),
        INVALID_REQUEST,
        "`method` must be a string",
    );
    refused(
        br#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
        Value::Null,
        INVALID_REQUEST,
        "`id` must be",
    );
    refused(
        br#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
        json!(1.5),
        INVALID_REQUEST,
        "not a valid request",
    );
    refused(b"[]", Value::Null, INVALID_REQUEST, "empty batch");
    refused(b"42", Value::Null, INVALID_REQUEST, "not a number");
    match check(br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"x"},{"jsonrpc":"2.0","id":"b","method":"ping"}]"#) {
        Checked::Refused(r) => {
            let ids: Vec<_> = r.iter().map(|r| r.id.clone()).collect();
            assert_eq!(ids, [json!(1), json!("b")], "one answer per request of the batch");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_params_are_invalid_params_not_method_not_found() {
    let call = |args: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{{"name":"health","arguments":{args}}}}}"#
        )
    };
    refused(call(r#""x""#).as_bytes(), json!(6), INVALID_PARAMS, "`arguments` must be an object");
    refused(call("[1]").as_bytes(), json!(6), INVALID_PARAMS, "not an array");
    passes(call("{}").as_bytes());
    passes(call("null").as_bytes());
    refused(
        br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":3}}"#,
        json!(7),
        INVALID_PARAMS,
        "`name`",
    );
    refused(
        br#"{"jsonrpc":"2.0","id":8,"method":"tools/list","params":"x"}"#,
        json!(8),
        INVALID_PARAMS,
        "`params` must be an object",
    );
    let huge = "L".repeat(1 << 20);
    let level =
        format!(r#"{{"jsonrpc":"2.0","id":9,"method":"logging/setLevel","params":{{"level":"{huge}"}}}}"#);
    refused(level.as_bytes(), json!(9), INVALID_PARAMS, "invalid params for `logging/setLevel`");
    refused(
        br#"{"jsonrpc":"2.0","id":12,"method":"prompts/get","params":{}}"#,
        json!(12),
        INVALID_PARAMS,
        "name",
    );
}

#[test]
fn good_messages_pass_and_unusable_notifications_are_dropped() {
    passes(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    passes(b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r");
    passes(br#"{"jsonrpc":"2.0","id":"x","method":"some/custom"}"#);
    passes(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    passes(br#"{"jsonrpc":"2.0","id":3,"result":{}}"#);
    ignored(b"   ");
    ignored(br#"{"jsonrpc":"1.0","method":"notifications/initialized"}"#);
    ignored(br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":"x"}"#);
    ignored(br#"{"jsonrpc":"2.0","id":3,"error":"x"}"#);
}

#[test]
fn an_oversized_message_is_answered_from_its_head() {
    let mut big =
        br#"{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"x","arguments":{"a":""#
            .to_vec();
    big.extend(std::iter::repeat_n(b'a', super::MAX_MESSAGE_BYTES));
    big.extend_from_slice(br#""}}}"#);
    refused(&big, json!("big"), INVALID_REQUEST, "at most");
}

#[test]
fn ids_are_found_in_broken_text() {
    let found = |s: &[u8]| salvage_id(s);
    assert_eq!(found(br#"{"method":"x","params":{"id":9,"a":[{"id":8}]},"id":"top"}"#), Some(json!("top")));
    assert_eq!(found(br#"  {"a":"\"id\":4","id":-12e0"#), None, "a number cut short is not guessed");
    assert_eq!(found(br#"{"a":"\"id\":4","id":-12 ,"#), Some(json!(-12)));
    assert_eq!(found(b"{\"x\":\"\xff\",\"id\":3"), None, "the value runs to the end: no delimiter");
    assert_eq!(found(b"{\"x\":\"\xff\",\"id\":3}"), Some(json!(3)));
    assert_eq!(found(br#"{"id":true}"#), None);
    assert_eq!(found(br#"["id",1]"#), None);
    assert_eq!(found(br#"{"id":"\ud800"}"#), None, "an id that is not a string cannot be echoed");
    assert_eq!(found(b""), None);
}

#[test]
fn quoted_values_are_cut_to_100_bytes() {
    let long = "v".repeat(5000);
    let msg = bounded(&format!("unknown variant `{long}`, expected one of `a`, `b`"));
    assert!(msg.len() < 300, "{msg}");
    assert!(msg.ends_with("expected one of `a`, `b`"), "{msg}");
    assert!(msg.contains("(5000 bytes in all)"), "{msg}");
    let unterminated = bounded(&format!("x \"{long}"));
    assert!(unterminated.len() < 300, "{unterminated}");
    let plain = bounded(&"w".repeat(5000));
    assert!(plain.len() <= 1004, "the whole message is bounded too");
}
