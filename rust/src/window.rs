//! The two per-window reads of a window that may be escalating, compiled: the
//! distinct-author sample with its repeaters (models.window.Window.voices) and the
//! copy-paste share (models.window.Window.duplicates). The detector calls them for
//! each of the three short windows of every minute that may be unusual, over up to
//! an hour of buckets: in Python they were half of a replay's detection time.
//!
//! Both are exact ports of the Python functions, which stay the specification and the
//! test oracle (tests/unit/test_compiled_window.py runs generated windows through
//! both): integer counts, and shares that are one integer over another (IEEE
//! division of two integers below 2**53, as Python's `int / int`).

use crate::fxhash::FxHashMap as HashMap;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

fn nonnegative(x: i64) -> PyResult<u64> {
    // (i64: PyO3 reads a C long faster than an unsigned long long)
    u64::try_from(x).map_err(|_| PyValueError::new_err("a sketch value or count below 0"))
}

/// The ints of a tuple (or any sequence) appended to `out`: read item by item, with no
/// vector per bucket.
fn extend_ints(seq: &Bound<'_, PyAny>, out: &mut Vec<u64>) -> PyResult<usize> {
    if let Ok(t) = seq.downcast::<PyTuple>() {
        for item in t.iter() {
            out.push(nonnegative(item.extract::<i64>()?)?);
        }
        return Ok(t.len());
    }
    let v: Vec<u64> = seq.extract()?; // (a list: state read back from JSON is tuples)
    out.extend(&v);
    Ok(v.len())
}
/// The u64s of little-endian bytes appended to `out` (None: not whole u64s).
#[allow(clippy::manual_is_multiple_of)]
fn extend_packed(b: &[u8], out: &mut Vec<u64>) -> Option<usize> {
    if b.len() % 8 != 0 { // (not is_multiple_of: Debian's rustc may predate it)
        return None;
    }
    out.extend(b.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())));
    Some(b.len() / 8)
}

/// models.window.Window.voices of a window holding `volume` posts, from each bucket's
/// `(distinct, sketch, posts)` (models.window.Bucket.sample: the sketch and its posts
/// packed as little-endian u64s, so that no int is read one by one):
/// `(distinct authors, posts share, voices share)`, or None for a window with a bucket
/// whose sketch and posts differ in length, as one stored before its authors' posts
/// were counted does (Python reads those).
#[pyfunction]
pub fn window_voices(samples: &Bound<'_, PyList>, volume: i64, cap: u64, k: usize)
                     -> PyResult<Option<(f64, f64, f64)>> {
    // All buckets' values in one vector each, and where each bucket's end.
    let (mut hashes, mut posts, mut ends) = (Vec::new(), Vec::new(), Vec::new());
    let (mut busiest, mut exact) = (0i64, 0i64);
    for item in samples.iter() {
        let (d, authors, counts): (i64, Bound<PyBytes>, Bound<PyBytes>) = item.extract()?;
        busiest = busiest.max(d);
        exact += d;
        let bad = || PyValueError::new_err("a packed sample of whole u64s");
        let n = extend_packed(counts.as_bytes(), &mut posts).ok_or_else(bad)?;
        let m = extend_packed(authors.as_bytes(), &mut hashes).ok_or_else(bad)?;
        if n != m {
            return Ok(None); // (stored before posts were counted: Python reads it)
        }
        ends.push(hashes.len());
    }
    // models.coordination.kmv_merge: a sketch of k values bounds the union's k-th
    // smallest, so only the values up to the smallest such bound are pooled and sorted.
    let mut bound = u64::MAX;
    let mut start = 0;
    for &end in &ends {
        if end - start >= k.max(1) {
            bound = bound.min(hashes[start + k.max(1) - 1]);
        }
        start = end;
    }
    let mut merged: Vec<u64> = hashes.iter().copied().filter(|&h| h <= bound).collect();
    merged.sort_unstable();
    merged.dedup();
    if merged.len() < k && bound != u64::MAX {
        merged = hashes.clone(); // a sketch repeated a value: pool them all
        merged.sort_unstable();
        merged.dedup();
    }
    merged.truncate(k);
    // models.coordination.distinct_estimate, then Window._bounded
    let estimate = if merged.len() < k {
        merged.len() as f64
    } else {
        (k - 1) as f64 / ((merged[k - 1] + 1) as f64 / 4294967296.0)
    };
    let distinct = estimate.max(busiest as f64).min(exact as f64).min(volume as f64);
    let Some(&top) = merged.last() else {
        return Ok(Some((distinct, 0.0, 0.0)));
    };
    // Each value of the union and the posts of its author over the window.
    let mut counts: HashMap<u64, u64> = HashMap::default();
    let mut start = 0;
    for &end in &ends {
        for i in start..end {
            let h = hashes[i];
            if h > top {
                break; // a sketch is sorted: nothing further in it is in the union
            }
            if merged.binary_search(&h).is_ok() {
                *counts.entry(h).or_insert(0) += posts[i];
            }
        }
        start = end;
    }
    let total: u64 = counts.values().sum();
    if total == 0 {
        return Ok(Some((distinct, 0.0, 0.0)));
    }
    let (mut heavy_posts, mut heavy) = (0u64, 0usize);
    for &n in counts.values() {
        if n > cap {
            heavy_posts += n;
            heavy += 1;
        }
    }
    Ok(Some((distinct, heavy_posts as f64 / total as f64, heavy as f64 / counts.len() as f64)))
}

/// models.window.Window.duplicates over the buckets' `(fingerprints, tones)` of their
/// kept original posts: the share of those posts whose text at least `at_least` share,
/// and the share of the scored copies at or above `threshold` (1.0 when none).
#[pyfunction]
pub fn window_duplicates(originals: &Bound<'_, PyList>, at_least: u64, threshold: f64)
                         -> PyResult<(f64, f64)> {
    let (mut fps, mut tones) = (Vec::new(), Vec::new());
    for pair in originals.iter() {
        let pair = pair.downcast::<PyTuple>()?;
        let n = extend_ints(&pair.get_item(0)?, &mut fps)?;
        let t = pair.get_item(1)?;
        for item in t.try_iter()? {
            tones.push(item?.extract::<Option<f64>>()?);
        }
        if tones.len() != fps.len() || n > fps.len() {
            return Err(PyValueError::new_err("one tone per fingerprint"));
        }
    }
    if fps.is_empty() {
        return Ok((0.0, 1.0));
    }
    let mut counts: HashMap<u64, u64> = HashMap::default();
    for &fp in &fps {
        *counts.entry(fp).or_insert(0) += 1;
    }
    if counts.values().all(|&c| c < at_least) {
        return Ok((0.0, 1.0));
    }
    let (mut copies, mut scored, mut hostile) = (0u64, 0u64, 0u64);
    for (fp, h) in fps.iter().zip(&tones) {
        if counts[fp] >= at_least {
            copies += 1;
            if let Some(h) = h {
                scored += 1;
                hostile += (*h >= threshold) as u64;
            }
        }
    }
    let rate = if scored > 0 { hostile as f64 / scored as f64 } else { 1.0 };
    Ok((copies as f64 / fps.len() as f64, rate))
}
