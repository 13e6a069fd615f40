//! models._core: Firestorm's per-mention hot path, compiled, over a batch.
//!
//! One call (`Core.accept`) takes a batch of raw messages and does what
//! models.intake.Intake.accept_many does per mention: decode and validate, tokenise
//! and match the watchlist, the negativity model's features, margin and calibration,
//! and the pseudonyms. It returns the same observations and rejections. The Python
//! modules stay the specification and the test oracle (tests/unit/test_compiled.py);
//! everything that must agree with them byte for byte is either ported exactly or
//! asked of Python: the Unicode tables come from the running interpreter, a message
//! off the common shape is decoded by models.mention.decode, language identification
//! by models.language.identify. The hostility markers are ported (hostility.rs).

use crate::fxhash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;
use sha2::Sha256;

mod decode;
mod fxhash;
mod features;
mod hostility;
mod matcher;
mod text;
mod window;
mod bucket;
mod fingerprint;

use features::{interp, Featurizer, Model, Parsed, N_DENSE};
use matcher::Matcher;
use text::Tables;

const MEMO_SIZE: usize = 100_000; // models.privacy._MEMO_SIZE

struct ScorerInner {
    tables: Tables,
    feat: Featurizer,
    models: Vec<(String, Model)>,
    default_language: String,
}

fn floats32(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn bits_of(len: usize, name: &str) -> PyResult<u32> {
    if len < 2 || !len.is_power_of_two() {
        return Err(PyValueError::new_err(format!("{name} must have a power-of-two length")));
    }
    Ok(len.trailing_zeros())
}

/// The Unicode tables and the negativity models, shared by every Core (watchlist).
#[pyclass(module = "models._core", frozen)]
struct Scorer {
    inner: Arc<ScorerInner>,
}

type ModelArgs = (String, Vec<u8>, Vec<u8>, Vec<f32>, f64, Vec<f64>, Vec<f64>);

#[pymethods]
impl Scorer {
    /// word: one byte per code point (Python's `\w`); casefold/lower: the non-ASCII
    /// code points whose mapping differs; feat_class: the features' BMP classes;
    /// specials: (token hash, 7 attributes); models: (lang, word f32 LE bytes, char f32
    /// LE bytes, dense, intercept, calibration x, calibration y).
    #[new]
    fn new(word: &[u8], casefold: HashMap<char, String>, lower: HashMap<char, String>,
           feat_class: &[u8], specials: Vec<(u64, Vec<f64>)>, models: Vec<ModelArgs>,
           default_language: String) -> PyResult<Self> {
        if feat_class.len() != 0x10000 || word.len() < 0x110000 {
            return Err(PyValueError::new_err("unicode tables of the wrong size"));
        }
        let tables = Tables::new(
            word.iter().map(|b| *b != 0).collect(),
            casefold.into_iter().map(|(k, v)| (k, v.into_boxed_str())).collect(),
            lower.into_iter().map(|(k, v)| (k, v.into_boxed_str())).collect(),
            feat_class.to_vec());
        let mut table = HashMap::default();
        for (key, attrs) in specials {
            let row: [f64; 7] = attrs.try_into()
                .map_err(|_| PyValueError::new_err("a special token needs 7 attributes"))?;
            table.insert(key, row);
        }
        let mut built = Vec::new();
        for (lang, word, chr, dense, intercept, cal_x, cal_y) in models {
            let word = floats32(&word);
            let chr = floats32(&chr);
            let dense: [f32; N_DENSE] = dense.try_into()
                .map_err(|_| PyValueError::new_err("dense weights of the wrong size"))?;
            if cal_x.is_empty() || cal_x.len() != cal_y.len() {
                return Err(PyValueError::new_err("calibration knots of the wrong size"));
            }
            let word_bits = bits_of(word.len(), "word_coef")?;
            let char_bits = bits_of(chr.len(), "char_coef")?;
            built.push((lang, Model { word, word_bits, chr, char_bits, dense, intercept,
                                      cal_x, cal_y }));
        }
        Ok(Scorer { inner: Arc::new(ScorerInner {
            tables, feat: Featurizer::new(table), models: built, default_language }) })
    }
}

/// The hostility markers' word lists and Python `re`'s `\s` and IGNORECASE, shared by
/// every Core.
#[pyclass(module = "models._core", frozen)]
struct Markers {
    inner: Arc<hostility::Markers>,
}

#[pymethods]
impl Markers {
    /// triggers, irony: might_mark's tokens and emoji; the pre-check stems of demand,
    /// question and call; not_demands: "#<stem>out" stems that are no demand;
    /// call_phrases (ASCII); space: the code points of `\s`; ignorecase: non-ASCII code
    /// point -> the ASCII letter that matches it under re.IGNORECASE.
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(triggers: Vec<String>, irony: Vec<char>, demand_stems: Vec<String>,
           not_demands: Vec<String>, question_stems: Vec<String>, call_stems: Vec<String>,
           call_phrases: Vec<String>, space: Vec<char>, ignorecase: HashMap<char, char>)
           -> PyResult<Self> {
        if call_phrases.iter().any(|p| !p.is_ascii()) {
            return Err(PyValueError::new_err(concat!(
                "models.calls_to_action.CALL_PHRASES must be ASCII for the compiled core:",
                " rust/src/hostility.rs folds only ASCII letters")));
        }
        Ok(Markers { inner: Arc::new(hostility::Markers::new(
            triggers, irony, demand_stems, not_demands, question_stems, call_stems,
            call_phrases, space, ignorecase)) })
    }
}

/// One watchlist's intake: matcher, pseudonymiser and the Python callbacks.
#[pyclass(module = "models._core")]
struct Core {
    scorer: Arc<ScorerInner>,
    matcher: Matcher,
    entity_ids: Vec<Py<PyString>>,
    watched: HashSet<String>,
    key: Vec<u8>,
    reach: i64,
    memo: HashMap<String, String>,
    markers: Arc<hostility::Markers>,
    decode: PyObject,
    rejection: PyObject,
    observation: PyObject,
    /// object.__new__ and the Observation's field names, in order (see `observe`).
    new_object: PyObject,
    fields: Vec<Py<PyString>>,
    identify: PyObject,
    normalise: PyObject,
    check: Option<PyObject>,
    lang_memo: HashMap<String, Option<String>>,
}

/// A decoded mention, from the fast path or from Python's decoder.
struct Decoded {
    m: decode::Mention,
}

struct Tagged {
    index: usize,
    m: decode::Mention,
    entities: Vec<usize>,
    flags: i64,
    slot: usize,
}

struct Slot {
    parsed: Parsed,
    read: Option<String>,
    text: String,
}

fn opt_string(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<String>> {
    obj.getattr(name)?.extract()
}

impl Core {
    /// An Observation built as its dataclass __init__ builds it (object.__setattr__ of
    /// each field, no __post_init__: models/compiled.py checks), without the Python calls.
    fn observe<'py>(&self, py: Python<'py>, values: &[Bound<'py, PyAny>])
                    -> PyResult<Bound<'py, PyAny>> {
        let obj = self.new_object.bind(py).call1((self.observation.bind(py),))?;
        for (name, value) in self.fields.iter().zip(values) {
            // SAFETY: three valid object pointers held for the call; a -1 sets a Python error.
            let rc = unsafe {
                pyo3::ffi::PyObject_GenericSetAttr(obj.as_ptr(), name.as_ptr(), value.as_ptr())
            };
            if rc != 0 {
                return Err(PyErr::fetch(py));
            }
        }
        Ok(obj)
    }

    fn author(&mut self, handle: &str, followers: Option<i64>) -> String {
        if let Some(f) = followers {
            if f >= self.reach {
                return handle.to_string();
            }
        }
        if let Some(p) = self.memo.get(handle) {
            return p.clone();
        }
        if self.memo.len() >= MEMO_SIZE {
            self.memo.clear();
        }
        let folded = self.scorer.tables.casefold(handle);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key size");
        mac.update(folded.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(17);
        out.push_str("anon:");
        for b in &digest[..6] {
            out.push_str(&format!("{b:02x}"));
        }
        self.memo.insert(handle.to_string(), out.clone());
        out
    }

    fn pseudonymise(&mut self, text: &str) -> String {
        if !text.contains('@') {
            return text.to_string();
        }
        let spans = self.scorer.tables.handles(text);
        if spans.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (a, b) in spans {
            out.push_str(&text[last..a]);
            let handle = &text[a..b];
            if self.watched.contains(&self.scorer.tables.casefold(handle)) {
                out.push_str(handle);
            } else {
                let p = self.author(handle, None);
                out.push_str(&p);
            }
            last = b;
        }
        out.push_str(&text[last..]);
        out
    }

    fn normalise(&mut self, py: Python<'_>, code: &Option<String>) -> PyResult<Option<String>> {
        let Some(code) = code else { return Ok(None) };
        if let Some(hit) = self.lang_memo.get(code) {
            return Ok(hit.clone());
        }
        let read: Option<String> = self.normalise.bind(py).call1((code,))?.extract()?;
        if self.lang_memo.len() < 4096 {
            self.lang_memo.insert(code.clone(), read.clone());
        }
        Ok(read)
    }

    fn parse(&self, py: Python<'_>, text: &str) -> PyResult<Parsed> {
        let s = &self.scorer;
        if text.contains('\u{03A3}') {
            // Final sigma: str.lower() reads the neighbours; ask Python for this post.
            let padded = format!(" {} ", text.replace('\0', " "));
            let low: String = PyString::new(py, &padded).call_method0("lower")?.extract()?;
            return Ok(s.feat.parse(&s.tables, text, Some(&low)));
        }
        Ok(s.feat.parse(&s.tables, text, None))
    }

    /// Each distinct (text, declared lang): its parse and the language it is read in.
    fn score_slots(&mut self, py: Python<'_>, slots: &mut [Slot]) -> PyResult<Vec<Option<f64>>> {
        let pending: Vec<usize> = (0..slots.len())
            .filter(|i| slots[*i].read.is_none()).collect();
        let mut ask: Vec<usize> = Vec::new();
        for &i in &pending {
            if slots[i].parsed.english {
                slots[i].read = Some("en".to_string());
            } else {
                ask.push(i);
            }
        }
        if !ask.is_empty() {
            let texts = PyList::new(py, ask.iter().map(|i| slots[*i].text.as_str()))?;
            let codes: Vec<Option<String>> = self.identify.bind(py).call1((texts,))?.extract()?;
            if codes.len() != ask.len() {
                return Err(PyValueError::new_err("identify returned the wrong number of codes"));
            }
            for (i, code) in ask.iter().zip(codes) {
                slots[*i].read = Some(code.unwrap_or_else(|| self.scorer.default_language.clone()));
            }
        }
        let s = &self.scorer;
        Ok(slots.iter().map(|slot| {
            let read = slot.read.as_deref().unwrap_or("");
            s.models.iter().find(|(lang, _)| lang == read).map(|(_, model)| {
                interp(s.feat.margin(&slot.parsed, model), &model.cal_x, &model.cal_y)
            })
        }).collect())
    }

    fn from_python(&self, obj: &Bound<'_, PyAny>) -> PyResult<(decode::Mention, Vec<String>)> {
        let m = decode::Mention {
            id: obj.getattr("id")?.extract()?,
            ts: obj.getattr("ts")?.extract()?,
            platform: obj.getattr("platform")?.extract()?,
            author: obj.getattr("author")?.extract()?,
            text: obj.getattr("text")?.extract()?,
            followers: obj.getattr("author_followers")?.extract()?,
            lang: opt_string(obj, "lang")?,
            reshare_of: opt_string(obj, "reshare_of")?,
            url: opt_string(obj, "url")?,
        };
        let repaired: Vec<String> = obj.getattr("repaired")?.extract()?;
        Ok((m, repaired))
    }
}

#[pymethods]
impl Core {
    #[new]
    #[pyo3(signature = (scorer, markers, entity_ids, phrases, watched_handles, key,
                        reach_threshold, decode, rejection, observation, fields, identify,
                        normalise, check=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(py: Python<'_>, scorer: &Scorer, markers: &Markers, entity_ids: Vec<String>,
           phrases: Vec<(Vec<String>, Vec<usize>)>, watched_handles: Vec<String>,
           key: Vec<u8>, reach_threshold: i64, decode: PyObject, rejection: PyObject,
           observation: PyObject, fields: Vec<String>, identify: PyObject,
           normalise: PyObject, check: Option<PyObject>) -> PyResult<Self> {
        if fields.len() != 13 {
            return Err(PyValueError::new_err("an Observation has 13 fields"));
        }
        if phrases.iter().any(|(_, ids)| ids.iter().any(|i| *i >= entity_ids.len())) {
            return Err(PyValueError::new_err("a phrase names an entity index out of range"));
        }
        Ok(Core {
            scorer: scorer.inner.clone(),
            matcher: Matcher::new(phrases),
            entity_ids: entity_ids.iter().map(|e| PyString::new(py, e).unbind()).collect(),
            watched: watched_handles.into_iter().collect(),
            key,
            reach: reach_threshold,
            memo: HashMap::default(),
            markers: markers.inner.clone(),
            decode, rejection, observation, identify, normalise, check,
            new_object: py.import("builtins")?.getattr("object")?.getattr("__new__")?.unbind(),
            fields: fields.iter().map(|f| PyString::intern(py, f).unbind()).collect(),
            lang_memo: HashMap::default(),
        })
    }

    /// Intake.accept_many's per-mention work over a batch (a list of bytes, str or None).
    /// Returns (observations, origins, rejected, repaired, accepted, untagged, newest
    /// event time per partition).
    #[pyo3(signature = (raws, now, partitions=None))]
    fn accept<'py>(&mut self, py: Python<'py>, raws: &Bound<'py, PyList>, now: f64,
                   partitions: Option<Vec<i64>>) -> PyResult<Bound<'py, PyTuple>> {
        let rejected = PyList::empty(py);
        let repaired = PyList::empty(py);
        let mut newest: HashMap<i64, f64> = HashMap::default();
        let mut accepted = 0usize;
        let mut tagged: Vec<Tagged> = Vec::new();
        let mut slots: Vec<Slot> = Vec::new();
        let mut slot_of: HashMap<(String, Option<String>), usize> = HashMap::default();
        let scorer = self.scorer.clone();
        let rejection = self.rejection.bind(py).clone();
        let decoder = self.decode.bind(py).clone();
        let kwargs = PyDict::new(py);
        kwargs.set_item("now", now)?;
        for (index, raw) in raws.iter().enumerate() {
            let fast = match raw.downcast::<PyBytes>() {
                Ok(b) => decode::fast(b.as_bytes(), now),
                Err(_) => None,
            };
            let Decoded { m } = match fast {
                Some(m) => Decoded { m },
                None => {
                    let out = decoder.call((raw,), Some(&kwargs))?;
                    if out.is_instance(&rejection)? {
                        rejected.append((index, out))?;
                        continue;
                    }
                    let (m, fields) = self.from_python(&out)?;
                    if !fields.is_empty() {
                        repaired.append((index, PyTuple::new(py, fields)?))?;
                    }
                    Decoded { m }
                }
            };
            accepted += 1;
            let partition = match &partitions {
                Some(p) => *p.get(index).ok_or_else(
                    || PyValueError::new_err("fewer partitions than messages"))?,
                None => 0,
            };
            let best = newest.entry(partition).or_insert(f64::NEG_INFINITY);
            if m.ts > *best {
                *best = m.ts;
            }
            let folded = scorer.tables.fold_for_tokens(&m.text);
            let toks = scorer.tables.tokens(&folded);
            let entities = self.matcher.match_tokens(&toks);
            if entities.is_empty() {
                continue;
            }
            let flags = if self.markers.might_mark(&toks, &m.text) {
                self.markers.flags(&scorer.tables, &m.text)
            } else {
                0
            };
            let key = (m.text.clone(), m.lang.clone());
            let slot = match slot_of.get(&key) {
                Some(s) => *s,
                None => {
                    let read = self.normalise(py, &m.lang)?;
                    slots.push(Slot { parsed: self.parse(py, &m.text)?, read,
                                      text: m.text.clone() });
                    slot_of.insert(key, slots.len() - 1);
                    slots.len() - 1
                }
            };
            tagged.push(Tagged { index, m, entities, flags, slot });
        }
        let items = PyList::empty(py);
        let origins = PyList::empty(py);
        if !tagged.is_empty() {
            if let Some(check) = &self.check {
                let texts = PyList::new(py, slots.iter().map(|s| s.text.as_str()))?;
                check.bind(py).call1((texts,))?;
            }
            let scores = self.score_slots(py, &mut slots)?;
            let empty = PyTuple::empty(py);
            for t in &tagged {
                let author = self.author(&t.m.author, t.m.followers);
                let url = if author == t.m.author { t.m.url.as_deref() } else { None };
                let text = self.pseudonymise(&t.m.text);
                let slot = &slots[t.slot];
                let id = PyString::new(py, &t.m.id);
                let platform = PyString::new(py, &t.m.platform);
                let author = PyString::new(py, &author);
                let text = PyString::new(py, &text);
                let followers = t.m.followers.into_bound_py_any(py)?;
                let score = scores[t.slot].into_bound_py_any(py)?;
                let reshare = t.m.reshare_of.as_deref().into_bound_py_any(py)?;
                let lang = slot.read.as_deref().into_bound_py_any(py)?;
                let url = url.into_bound_py_any(py)?;
                for &e in &t.entities {
                    let others = if t.entities.len() > 1 {
                        let rest: Vec<&Bound<'py, PyString>> = t.entities.iter()
                            .filter(|o| **o != e).map(|o| self.entity_ids[*o].bind(py)).collect();
                        PyTuple::new(py, rest)?
                    } else {
                        empty.clone()
                    };
                    let args = [
                        self.entity_ids[e].bind(py).clone().into_any(),
                        id.clone().into_any(), t.m.ts.into_bound_py_any(py)?,
                        platform.clone().into_any(), author.clone().into_any(),
                        text.clone().into_any(), followers.clone(), score.clone(),
                        others.into_any(), reshare.clone(), lang.clone(), t.flags.into_bound_py_any(py)?,
                        url.clone(),
                    ];
                    items.append(self.observe(py, &args)?)?;
                    origins.append(t.index)?;
                }
            }
        }
        let newest_py = PyDict::new(py);
        for (p, ts) in newest {
            newest_py.set_item(p, ts)?;
        }
        let untagged = accepted - tagged.len();
        PyTuple::new(py, [items.into_any(), origins.into_any(), rejected.into_any(),
                          repaired.into_any(), accepted.into_bound_py_any(py)?,
                          untagged.into_bound_py_any(py)?, newest_py.into_any()])
    }

    // The pieces, for the oracle tests (tests/unit/test_compiled.py).

    /// The fast decode path: (id, ts, platform, author, text, followers, lang,
    /// reshare_of, url), or None where Python's decoder must decide.
    #[allow(clippy::type_complexity)]
    fn decode_fast(&self, raw: &[u8], now: f64) -> Option<(String, f64, String, String, String,
            Option<i64>, Option<String>, Option<String>, Option<String>)> {
        decode::fast(raw, now).map(|m| (m.id, m.ts, m.platform, m.author, m.text, m.followers,
                                        m.lang, m.reshare_of, m.url))
    }

    fn tokens(&self, text: &str) -> Vec<String> {
        let folded = self.scorer.tables.fold_for_tokens(text);
        self.scorer.tables.tokens(&folded).into_iter().map(str::to_string).collect()
    }

    /// Entity ids the text names, in watchlist order.
    fn match_text<'py>(&self, py: Python<'py>, text: &str) -> Vec<Bound<'py, PyString>> {
        let folded = self.scorer.tables.fold_for_tokens(text);
        let toks = self.scorer.tables.tokens(&folded);
        self.matcher.match_tokens(&toks).into_iter()
            .map(|e| self.entity_ids[e].bind(py).clone()).collect()
    }

    fn might_mark_text(&self, text: &str) -> bool {
        let folded = self.scorer.tables.fold_for_tokens(text);
        let toks = self.scorer.tables.tokens(&folded);
        self.markers.might_mark(&toks, text)
    }

    /// models.hostility.markers: the bit flags of the post's hostility markers.
    fn markers(&self, text: &str) -> i64 {
        self.markers.flags(&self.scorer.tables, text)
    }

    #[pyo3(signature = (handle, followers=None))]
    fn pseudonym(&mut self, handle: &str, followers: Option<i64>) -> String {
        self.author(handle, followers)
    }

    fn pseudonymise_text(&mut self, text: &str) -> String {
        self.pseudonymise(text)
    }

    /// Each model's margin on each text: {lang: [margin, ...]}, and the English flags.
    fn margins(&self, py: Python<'_>, texts: Vec<String>)
               -> PyResult<(HashMap<String, Vec<f64>>, Vec<bool>)> {
        let parsed: Vec<Parsed> = texts.iter().map(|t| self.parse(py, t))
            .collect::<PyResult<_>>()?;
        let s = &self.scorer;
        let out = s.models.iter().map(|(lang, m)| {
            (lang.clone(), parsed.iter().map(|p| s.feat.margin(p, m)).collect())
        }).collect();
        Ok((out, parsed.iter().map(|p| p.english).collect()))
    }

    /// NegativityScorer.assess_many: (calibrated probability or None, language read).
    fn assess(&mut self, py: Python<'_>, texts: Vec<String>, langs: Vec<Option<String>>)
              -> PyResult<(Vec<Option<f64>>, Vec<String>)> {
        if texts.len() != langs.len() {
            return Err(PyValueError::new_err("one language per text"));
        }
        let mut slots = Vec::with_capacity(texts.len());
        for (text, lang) in texts.into_iter().zip(langs) {
            let read = self.normalise(py, &lang)?;
            slots.push(Slot { parsed: self.parse(py, &text)?, read, text });
        }
        let scores = self.score_slots(py, &mut slots)?;
        Ok((scores, slots.into_iter().map(|s| s.read.unwrap_or_default()).collect()))
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scorer>()?;
    m.add_class::<Markers>()?;
    m.add_class::<Core>()?;
    m.add_function(wrap_pyfunction!(window::window_voices, m)?)?;
    m.add_function(wrap_pyfunction!(window::window_duplicates, m)?)?;
    m.add_function(wrap_pyfunction!(bucket::bucket_fold, m)?)?;
    m.add_function(wrap_pyfunction!(bucket::author_hash, m)?)?;
    m.add_class::<fingerprint::Fingerprinter>()?;
    Ok(())
}
