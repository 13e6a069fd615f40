//! The negativity model's features and margin (models/negativity_features.py, the
//! shipped configuration FEATURES: word 1-2-grams, char 2-5-grams, no contrast
//! scope, no emoticons), per post, with numpy's order of summation where it is
//! known (bincount's sequential sums, add.reduceat's pairwise sums).

use crate::fxhash::FxHashMap as HashMap;

use crate::text::{Tables, OTHER, SPACE, WORD};

pub const BASE: u64 = 0x100000001B3;
const MIX: u64 = 0x9E3779B97F4A7C15;
const NEG_SALT: u64 = 0x5BD1E9955BD1E995;
const BIGRAM_SALT: u64 = 0xC2B2AE3D27D4EB4F;
const NEGATED_VALENCE: f64 = -0.74;
pub const N_DENSE: usize = 9;
const SCOPE_END: [u64; 6] = ['.' as u64, ',' as u64, '!' as u64, '?' as u64, ';' as u64,
                             ':' as u64];
// Columns of the special-token table (models.negativity_features._specials).
const VALENCE: usize = 0;
const NEGATOR: usize = 1;
const CALL: usize = 2;
const NEG_EMO: usize = 3;
const POS_EMO: usize = 4;
const ENGLISH: usize = 6;

pub struct Model {
    pub word: Vec<f32>,
    pub word_bits: u32,
    pub chr: Vec<f32>,
    pub char_bits: u32,
    pub dense: [f32; N_DENSE],
    pub intercept: f64,
    pub cal_x: Vec<f64>,
    pub cal_y: Vec<f64>,
}

/// One post, read: its normalised code points and its tokens.
pub struct Parsed {
    codes: Vec<u64>,
    marked: Vec<u64>, // token hashes, negated ones salted
    dense: [f64; N_DENSE],
    pub english: bool,
}

pub struct Featurizer {
    powers: [u64; 64],
    specials: HashMap<u64, [f64; 7]>,
}

#[inline]
fn bucket(hash: u64, bits: u32) -> usize {
    (hash.wrapping_mul(MIX) >> (64 - bits)) as usize
}

/// numpy's pairwise summation of float64 (the inner loop of add.reduce).
fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// numpy.interp(x, xp, fp) for one x (xp strictly increasing, finite).
pub fn interp(x: f64, xp: &[f64], fp: &[f64]) -> f64 {
    let last = xp.len() - 1;
    if x.is_nan() {
        return x;
    }
    if x < xp[0] {
        return fp[0];
    }
    if x > xp[last] {
        return fp[last];
    }
    if last == 0 {
        return fp[0];
    }
    // j with xp[j] <= x < xp[j + 1], or last when x == xp[last]
    let j = xp.partition_point(|&v| v <= x) - 1;
    if j == last || xp[j] == x {
        return fp[j];
    }
    let slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
    let res = slope * (x - xp[j]) + fp[j];
    if res.is_nan() {
        let res = slope * (x - xp[j + 1]) + fp[j + 1];
        if res.is_nan() && fp[j] == fp[j + 1] {
            return fp[j];
        }
        return res;
    }
    res
}

impl Featurizer {
    pub fn new(specials: HashMap<u64, [f64; 7]>) -> Self {
        let mut powers = [1u64; 64];
        for i in 1..64 {
            powers[i] = powers[i - 1].wrapping_mul(BASE);
        }
        Featurizer { powers, specials }
    }

    /// Normalise: " text " lower-cased (`lowered`: Python's own, when the text needs
    /// context), U+2019 as "'", NUL as a space, every whitespace run one space.
    pub fn parse(&self, tables: &Tables, text: &str, lowered: Option<&str>) -> Parsed {
        let mut chars: Vec<char> = Vec::with_capacity(text.len() + 2);
        match lowered {
            Some(low) => chars.extend(low.chars()),
            None => {
                chars.push(' ');
                for c in text.chars() {
                    tables.push_lower(if c == '\0' { ' ' } else { c }, &mut chars);
                }
                chars.push(' ');
            }
        }
        let mut codes: Vec<u64> = Vec::with_capacity(chars.len());
        let mut kinds: Vec<u8> = Vec::with_capacity(chars.len());
        let mut prev_space = false;
        for c in chars {
            let c = if c == '\u{2019}' { '\'' } else if c == '\0' { ' ' } else { c };
            let code = c as u32;
            let kind = if code < 0x10000 { tables.feat_class[code as usize] } else { OTHER };
            if kind == SPACE {
                if prev_space {
                    continue;
                }
                prev_space = true;
                codes.push(32);
            } else {
                prev_space = false;
                codes.push(code as u64);
            }
            kinds.push(kind);
        }
        // Tokens: a run of word chars, or one other char.
        let mut hashes: Vec<u64> = Vec::new();
        let mut firsts: Vec<u64> = Vec::new();
        let mut is_word: Vec<bool> = Vec::new();
        let mut i = 0;
        let n = codes.len();
        while i < n {
            match kinds[i] {
                WORD => {
                    let mut h = 0u64;
                    let mut j = i;
                    while j < n && kinds[j] == WORD {
                        h = h.wrapping_add(codes[j].wrapping_mul(self.powers[(j - i).min(63)]));
                        j += 1;
                    }
                    hashes.push(h);
                    firsts.push(codes[i]);
                    is_word.push(true);
                    i = j;
                }
                SPACE => i += 1,
                _ => {
                    hashes.push(codes[i]);
                    firsts.push(codes[i]);
                    is_word.push(false);
                    i += 1;
                }
            }
        }
        let (mut pos, mut neg) = (0.0f64, 0.0f64);
        let (mut negators, mut calls, mut neg_emo, mut pos_emo, mut english_hits) =
            (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
        let mut in_scope = 0u32;
        let mut marked: Vec<u64> = Vec::with_capacity(hashes.len());
        for k in 0..hashes.len() {
            if k == 0 || SCOPE_END.contains(&firsts[k]) {
                in_scope = 0;
            }
            let negated = in_scope > 0;
            marked.push(if negated { hashes[k] ^ NEG_SALT } else { hashes[k] });
            if let Some(attrs) = self.specials.get(&hashes[k]) {
                let valence = attrs[VALENCE] * if negated { NEGATED_VALENCE } else { 1.0 };
                pos += valence.max(0.0);
                neg += (-valence).max(0.0);
                negators += attrs[NEGATOR];
                calls += attrs[CALL];
                neg_emo += attrs[NEG_EMO];
                pos_emo += attrs[POS_EMO];
                english_hits += attrs[ENGLISH];
                if attrs[NEGATOR] > 0.0 {
                    in_scope += 1;
                }
            }
        }
        let words = is_word.iter().filter(|w| **w).count() as f64;
        let bang = codes.iter().filter(|c| **c == '!' as u64).count() as f64;
        let question = codes.iter().filter(|c| **c == '?' as u64).count() as f64;
        let total = pos - neg;
        let dense = [
            (pos / 4.0).tanh(),
            (neg / 4.0).tanh(),
            total / (total * total + 15.0).sqrt(),
            if negators > 0.0 { 1.0 } else { 0.0 },
            calls.tanh(),
            neg_emo.tanh(),
            pos_emo.tanh(),
            (bang / 3.0).tanh(),
            (question / 3.0).tanh(),
        ];
        let english = english_hits >= 2.0 && english_hits * 5.0 >= words;
        Parsed { codes, marked, dense, english }
    }

    /// The model's margin (uncalibrated log-odds) for a parsed post.
    pub fn margin(&self, p: &Parsed, m: &Model) -> f64 {
        let t = p.marked.len();
        let mut words = 0.0f64;
        for &h in &p.marked {
            words += m.word[bucket(h, m.word_bits)] as f64;
        }
        for k in 1..t {
            let h = p.marked[k - 1].wrapping_mul(BASE).wrapping_add(p.marked[k])
                .wrapping_add(BIGRAM_SALT);
            words += m.word[bucket(h, m.word_bits)] as f64;
        }
        let word_count = (t + t.saturating_sub(1)) as f64;
        let codes = &p.codes;
        let len = codes.len();
        let mut totals: Vec<f64> = Vec::with_capacity(len);
        let mut char_count = 0usize;
        for n in 2..=5usize {
            char_count += (len + 1).saturating_sub(n);
        }
        for start in 0..len {
            let mut h = codes[start];
            let mut sum = 0.0f64;
            for n in 2..=5usize {
                if start + n > len {
                    break;
                }
                h = h.wrapping_mul(BASE).wrapping_add(codes[start + n - 1]);
                sum += m.chr[bucket(h.wrapping_add(n as u64), m.char_bits)] as f64;
            }
            totals.push(sum);
        }
        let chars = pairwise(&totals);
        let mut dense = 0.0f64;
        for j in 0..N_DENSE {
            dense += p.dense[j] * m.dense[j] as f64;
        }
        let scale = |c: f64| 1.0 / c.max(1.0).sqrt();
        dense + m.intercept + words * scale(word_count) + chars * scale(char_count as f64)
    }
}
