//! The common shape of a mention, accepted without Python (models.mention's fast
//! path): known fields only, an epoch `ts`, valid types and lengths, no escape that
//! needs repair. Anything else returns None and the caller asks models.mention.decode,
//! which accepts a rarer shape or names the exact reason it rejects the message. So a
//! rejection's reason is Python's, byte for byte, and this path only ever accepts what
//! Python's fast path accepts, with the same values.

use serde_json::{Map, Value};

const MAX_TEXT_CHARS: usize = 10_000;
const MAX_FIELD_CHARS: usize = 2_048;
const MAX_FOLLOWERS: i64 = 10_000_000_000;
const MAX_FUTURE_SECONDS: f64 = 86_400.0;
const MIN_TS: f64 = 946_684_800.0;
const KNOWN: [&str; 10] = ["id", "ts", "platform", "author", "text", "author_followers", "lang",
                           "reshare_of", "reply_to", "url"];

pub struct Mention {
    pub id: String,
    pub ts: f64,
    pub platform: String,
    pub author: String,
    pub text: String,
    pub followers: Option<i64>,
    pub lang: Option<String>,
    pub reshare_of: Option<String>,
    pub url: Option<String>,
}

/// An escape Python's decoder would repair (a surrogate or NUL): leave it to Python.
fn needs_repair(raw: &[u8]) -> bool {
    let mut i = 0;
    while i + 3 < raw.len() {
        if raw[i] == b'\\' && raw[i + 1] == b'u' {
            let a = raw[i + 2];
            let b = raw[i + 3];
            if (a == b'd' || a == b'D') && matches!(b, b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F') {
                return true;
            }
            if i + 5 < raw.len() && &raw[i + 2..i + 6] == b"0000" {
                return true;
            }
        }
        i += 1;
    }
    false
}

fn short_str(v: Option<&Value>, limit: usize) -> Option<Option<String>> {
    // Some(None): absent or null; Some(Some(s)): a string within the limit; None: neither.
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.chars().count() <= limit => Some(Some(s.clone())),
        _ => None,
    }
}

fn required(data: &Map<String, Value>, name: &str, limit: usize) -> Option<String> {
    match data.get(name) {
        Some(Value::String(s)) if s.chars().count() <= limit => Some(s.clone()),
        _ => None,
    }
}

pub fn fast(raw: &[u8], now: f64) -> Option<Mention> {
    if raw.is_empty() || needs_repair(raw) {
        return None;
    }
    let text = std::str::from_utf8(raw).ok()?;
    if text.starts_with('\u{feff}') {
        return None;
    }
    let data: Map<String, Value> = match serde_json::from_str::<Value>(text).ok()? {
        Value::Object(map) => map,
        _ => return None,
    };
    if !data.keys().all(|k| KNOWN.contains(&k.as_str())) {
        return None;
    }
    let id = required(&data, "id", MAX_FIELD_CHARS)?;
    if id.is_empty() {
        return None;
    }
    let platform = required(&data, "platform", MAX_FIELD_CHARS)?;
    let author = required(&data, "author", MAX_FIELD_CHARS)?;
    let body = required(&data, "text", MAX_TEXT_CHARS)?;
    let ts = match data.get("ts") {
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                if !(-(1i64 << 53) < i && i < (1i64 << 53)) {
                    return None;
                }
                i as f64
            } else if n.is_u64() {
                return None; // above i64: above 2**53 too
            } else {
                n.as_f64()?
            }
        }
        _ => return None,
    };
    if !(MIN_TS <= ts && ts <= now + MAX_FUTURE_SECONDS) {
        return None;
    }
    let followers = match data.get("author_followers") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => {
            let v = n.as_i64()?; // a float, or an int beyond i64: Python's full check
            if !(0..=MAX_FOLLOWERS).contains(&v) {
                return None;
            }
            Some(v)
        }
        _ => return None,
    };
    let lang = short_str(data.get("lang"), MAX_FIELD_CHARS)?;
    let reshare_of = short_str(data.get("reshare_of"), MAX_FIELD_CHARS)?;
    short_str(data.get("reply_to"), MAX_FIELD_CHARS)?;
    let url = short_str(data.get("url"), MAX_FIELD_CHARS)?;
    Some(Mention { id, ts, platform, author, text: body, followers, lang, reshare_of, url })
}
