//! Copy-paste fingerprints of kept texts, compiled: models.coordination.fingerprint,
//! which the detector's copy-paste read (models.window.Bucket.originals) takes of every
//! original post a bucket keeps. The Python stays the specification and the test oracle
//! (tests/unit/test_compiled_bucket.py).
//!
//! The Python: `low = text.casefold()`; links, handles and hashtags
//! (`https?://\S+|www\.\S+|[@#]\w+`) become a space; every run of characters outside
//! a-z becomes a space; the result is stripped and its UTF-8 CRC-32 is the fingerprint.
//! So the fingerprint is the CRC-32 of the a-z runs left once the links are gone,
//! joined by single spaces, which is what is built here. `\w`, `\s` and casefold are
//! the running interpreter's (tables passed from models.compiled).

use crate::bucket::crc32;
use crate::fxhash::FxHashMap as HashMap;
use crate::text::casefold;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

/// Python's `\w`, `\s` and `str.casefold` for every code point.
#[pyclass(module = "models._core", frozen)]
pub struct Fingerprinter {
    word: Vec<bool>,
    space: Vec<bool>,
    casefold: HashMap<char, Box<str>>,
}

impl Fingerprinter {
    fn is_w(&self, c: char) -> bool {
        self.word.get(c as usize).copied().unwrap_or(false)
    }

    fn is_s(&self, c: char) -> bool {
        self.space.get(c as usize).copied().unwrap_or(false)
    }

    /// The end of a link, handle or hashtag starting at `i`, if one does.
    fn link_end(&self, cs: &[char], i: usize) -> Option<usize> {
        let at = |j: usize, s: &str| s.chars().enumerate().all(|(n, c)| cs.get(j + n) == Some(&c));
        let n = cs.len();
        // `https?://\S+` (the optional s tried first, as the regex does), then `www\.\S+`
        let start = if at(i, "https://") {
            Some(i + 8)
        } else if at(i, "http://") {
            Some(i + 7)
        } else {
            None
        };
        for k in start.into_iter().chain(at(i, "www.").then_some(i + 4)) {
            if k < n && !self.is_s(cs[k]) {
                let mut j = k;
                while j < n && !self.is_s(cs[j]) {
                    j += 1;
                }
                return Some(j);
            }
        }
        // `[@#]\w+`
        if (cs[i] == '@' || cs[i] == '#') && i + 1 < n && self.is_w(cs[i + 1]) {
            let mut j = i + 1;
            while j < n && self.is_w(cs[j]) {
                j += 1;
            }
            return Some(j);
        }
        None
    }

    fn fingerprint(&self, text: &str) -> u32 {
        let cs: Vec<char> = casefold(&self.casefold, text).chars().collect();
        let mut out: Vec<u8> = Vec::with_capacity(cs.len());
        let mut gap = false;
        let mut i = 0;
        while i < cs.len() {
            if matches!(cs[i], 'h' | 'w' | '@' | '#') {
                if let Some(j) = self.link_end(&cs, i) {
                    gap = true;
                    i = j;
                    continue;
                }
            }
            let c = cs[i];
            if c.is_ascii_lowercase() {
                if gap && !out.is_empty() {
                    out.push(b' ');
                }
                gap = false;
                out.push(c as u8);
            } else {
                gap = true;
            }
            i += 1;
        }
        crc32(&out)
    }
}

#[pymethods]
impl Fingerprinter {
    /// word, space: one byte per code point (Python's `\w`, `\s`); casefold: the
    /// non-ASCII code points whose `str.casefold()` differs from themselves.
    #[new]
    fn new(word: &[u8], space: &[u8], casefold: HashMap<char, String>) -> PyResult<Self> {
        if word.len() < 0x110000 || space.len() < 0x110000 {
            return Err(PyValueError::new_err("unicode tables of the wrong size"));
        }
        Ok(Fingerprinter {
            word: word.iter().map(|b| *b != 0).collect(),
            space: space.iter().map(|b| *b != 0).collect(),
            casefold: casefold.into_iter().map(|(k, v)| (k, v.into_boxed_str())).collect(),
        })
    }

    /// The fingerprint of each text, None for one that is not a str of valid UTF-8
    /// (a lone surrogate: Python's own function reads it).
    fn fingerprints(&self, texts: &Bound<'_, PyList>) -> Vec<Option<u32>> {
        texts.iter().map(|t| {
            let s = t.downcast::<PyString>().ok()?;
            Some(self.fingerprint(s.to_str().ok()?))
        }).collect()
    }
}
