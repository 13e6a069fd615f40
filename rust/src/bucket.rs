//! The close of a minute's bucket, compiled: models.window.OpenBucket.close folds the
//! bucket's post records (a chain of tuples, newest first) into its totals, signal
//! counts, distinct-author sketch with each sampled author's posts, top authors by
//! reach, co-mentions and most reshared posts. Every entity closes a bucket every
//! minute it has posts, so this ran once per entity-minute in Python.
//!
//! An exact port: the Python stays the specification and the test oracle
//! (tests/unit/test_compiled_bucket.py runs generated buckets through both). Counts are
//! integers; the negative mass is summed in the records' order, as Python's loop does;
//! the sketch hashes authors as models.coordination._author_hash does (CRC-32 of the
//! UTF-8, then MurmurHash3's finaliser); ties sort as models.window.ranked's (by value,
//! then by key in code-point order, which is UTF-8 byte order). A record off the
//! expected shape (a value Python would read differently, a string that is not valid
//! UTF-8, a follower count beyond 64 bits) makes the call return None: Python reads it.

use crate::fxhash::FxHashMap as HashMap;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyString, PyTuple};

/// CRC-32 (IEEE 802.3, reflected), as zlib.crc32.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *slot = c;
        }
        t
    });
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c = table[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// models.coordination._mix: MurmurHash3's 32-bit finaliser.
fn mix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^= h >> 13;
    h = h.wrapping_mul(0xC2B2_AE35);
    h ^ (h >> 16)
}

/// The hash models.coordination._author_hash gives `author` (exposed for the tests).
#[pyfunction]
pub fn author_hash(author: &str) -> u32 {
    mix(crc32(author.as_bytes()))
}

/// models.window.ranked: `(key, value)` by value, largest first, ties by key.
fn ranked(counts: HashMap<&str, i64>, keep: usize) -> Vec<(&str, i64)> {
    let mut items: Vec<(&str, i64)> = counts.into_iter().collect();
    items.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    items.truncate(keep);
    items
}

/// What the fold returns to Python: the totals' and counts' integers, the mass, the
/// sketch, and the three ranked lists.
type Folded = ((i64, f64, i64, i64), (i64, i64, i64, i64, i64, i64, i64),
               (Vec<u32>, Vec<i64>, usize), Vec<(String, i64)>, Vec<(String, i64)>,
               Vec<(String, i64)>);

/// One post record's values, its strings held as Python objects.
struct Record<'py> {
    author: Bound<'py, PyString>,
    followers: i64,
    root: Option<Bound<'py, PyString>>,
    hostility: Option<f64>,
    markers: i64,
}

fn owned(items: Vec<(&str, i64)>) -> Vec<(String, i64)> {
    items.into_iter().map(|(s, n)| (s.to_owned(), n)).collect()
}

/// Fold the chain of post records `(author, followers, others, root, hostility,
/// markers, next)` of a bucket: `((scored, mass, hostile, excess), (high, demands,
/// sarcasm, questions, reshares, unscored, calls), (sketch, posts, distinct),
/// top_authors, others, roots)`, or None for a record Python must read. `flags` are
/// the marker bits (DEMAND, SARCASM, QUESTION, CALL) of models.hostility.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn bucket_fold(chain: &Bound<'_, PyAny>, cap: i64, threshold: f64, high_reach: i64,
                   k: usize, top_authors: usize, flags: (i64, i64, i64, i64))
                   -> PyResult<Option<Folded>> {
    // First the records' values, newest first (the chain's order), their strings kept
    // as the Python objects, so that the fold below borrows their UTF-8.
    let mut records: Vec<Record> = Vec::new();
    let mut names: Vec<Bound<PyString>> = Vec::new(); // every record's co-mentions
    let mut link = chain.clone();
    while !link.is_none() {
        let Ok(t) = link.downcast::<PyTuple>() else { return Ok(None) };
        if t.len() != 7 {
            return Ok(None);
        }
        let Ok(author) = t.get_item(0)?.downcast_into::<PyString>() else { return Ok(None) };
        let Ok(followers) = t.get_item(1)?.extract::<i64>() else { return Ok(None) };
        let Ok(co) = t.get_item(2)?.downcast_into::<PyTuple>() else { return Ok(None) };
        for o in co.iter() {
            let Ok(name) = o.downcast_into::<PyString>() else { return Ok(None) };
            names.push(name);
        }
        let item = t.get_item(3)?;
        let root = if item.is_none() {
            None
        } else {
            let Ok(r) = item.downcast_into::<PyString>() else { return Ok(None) };
            Some(r)
        };
        let item = t.get_item(4)?;
        // (a float, as Python's comparisons and sum read it; an int or bool Python reads)
        let hostility = if item.is_none() {
            None
        } else {
            let Ok(x) = item.downcast::<PyFloat>() else { return Ok(None) };
            Some(x.value())
        };
        let Ok(markers) = t.get_item(5)?.extract::<i64>() else { return Ok(None) };
        records.push(Record { author, followers, root, hostility, markers });
        link = t.get_item(6)?;
    }
    let (demand, sarcasm_bit, question_bit, call_bit) = flags;
    let mut per_author: HashMap<&str, i64> = HashMap::default();
    let mut reach: HashMap<&str, i64> = HashMap::default();
    let mut roots: HashMap<&str, i64> = HashMap::default();
    let mut others: HashMap<&str, i64> = HashMap::default();
    for name in &names {
        let Ok(name) = name.to_str() else { return Ok(None) };
        *others.entry(name).or_insert(0) += 1;
    }
    let (mut high, mut scored, mut hostile, mut demands, mut sarcasm, mut questions) =
        (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
    let (mut unscored, mut calls, mut reshares) = (0i64, 0i64, 0i64);
    let mut mass = 0.0f64;
    for r in &records {
        let Ok(author) = r.author.to_str() else { return Ok(None) };
        *per_author.entry(author).or_insert(0) += 1;
        if r.markers & call_bit != 0 {
            calls += 1;
        }
        if r.followers >= high_reach {
            high += 1;
        }
        // `followers > reach.get(author, -1)`, as Python's.
        if r.followers > reach.get(author).copied().unwrap_or(-1) {
            reach.insert(author, r.followers);
        }
        if let Some(root) = &r.root {
            let Ok(root) = root.to_str() else { return Ok(None) };
            *roots.entry(root).or_insert(0) += 1;
            reshares += 1;
        }
        match r.hostility {
            None => unscored += 1,
            Some(h) if r.root.is_none() => {
                scored += 1;
                mass += h;
                if h >= threshold {
                    hostile += 1;
                }
                if r.markers != 0 {
                    demands += (r.markers & demand > 0) as i64;
                    sarcasm += (r.markers & sarcasm_bit > 0) as i64;
                    questions += (r.markers & question_bit > 0) as i64;
                }
            }
            Some(_) => {}
        }
    }
    let excess: i64 = per_author.values().filter(|&&c| c > cap).map(|&c| c - cap).sum();
    let distinct = per_author.len();
    let mut hashed: Vec<(u32, i64)> =
        per_author.iter().map(|(a, &c)| (author_hash(a), c)).collect();
    hashed.sort_unstable();
    hashed.truncate(k);
    let (sketch, posts): (Vec<u32>, Vec<i64>) = hashed.into_iter().unzip();
    let mut co: Vec<(&str, i64)> = others.into_iter().collect();
    co.sort_unstable();
    Ok(Some(((scored, mass, hostile, excess),
             (high, demands, sarcasm, questions, reshares, unscored, calls),
             (sketch, posts, distinct), owned(ranked(reach, top_authors)), owned(co),
             owned(ranked(roots, 3)))))
}
