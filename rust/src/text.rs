//! Unicode as CPython sees it: the tables come from the running interpreter
//! (models/compiled.py builds them), so `\w`, `str.casefold` and `str.lower`
//! agree with the Python oracle on every code point, whatever Unicode version
//! Rust's own tables have.

use crate::fxhash::FxHashMap as HashMap;

/// Class of a BMP code point for the negativity features (models/negativity_features.py).
pub const OTHER: u8 = 0;
pub const WORD: u8 = 1;
pub const SPACE: u8 = 2;

/// `text.casefold()`, given the non-ASCII code points whose casefold differs.
pub fn casefold(map: &HashMap<char, Box<str>>, text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if let Some(m) = map.get(&c) {
            out.push_str(m);
        } else {
            out.push(c);
        }
    }
    out
}

pub struct Tables {
    /// Python `re`'s `\w` (str.isalnum() or "_"), one flag per code point.
    word: Vec<bool>,
    /// Non-ASCII code points whose `str.casefold()` differs from themselves.
    casefold: HashMap<char, Box<str>>,
    /// Non-ASCII code points whose `str.lower()` differs (U+03A3 excluded: context).
    lower: HashMap<char, Box<str>>,
    /// The features' class of each BMP code point (above it: OTHER).
    pub feat_class: Vec<u8>,
}

impl Tables {
    pub fn new(word: Vec<bool>, casefold: HashMap<char, Box<str>>,
               lower: HashMap<char, Box<str>>, feat_class: Vec<u8>) -> Self {
        Tables { word, casefold, lower, feat_class }
    }

    #[inline]
    pub fn is_w(&self, c: char) -> bool {
        self.word.get(c as usize).copied().unwrap_or(false)
    }

    /// `text.casefold()` with the typographic apostrophe spelt "'" (models.matcher.tokens).
    pub fn fold_for_tokens(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else if c == '\u{2019}' {
                out.push('\'');
            } else if let Some(m) = self.casefold.get(&c) {
                for d in m.chars() {
                    out.push(if d == '\u{2019}' { '\'' } else { d });
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// `text.casefold()`.
    pub fn casefold(&self, text: &str) -> String {
        casefold(&self.casefold, text)
    }

    /// Push `c.lower()` (never U+03A3, whose lower case depends on its neighbours).
    #[inline]
    pub fn push_lower(&self, c: char, out: &mut Vec<char>) {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if let Some(m) = self.lower.get(&c) {
            out.extend(m.chars());
        } else {
            out.push(c);
        }
    }

    /// models.matcher.tokens over an already folded text: `(?<!\w)[#@]\w+|\w+(?:'\w+)*`.
    pub fn tokens<'a>(&self, low: &'a str) -> Vec<&'a str> {
        let cs: Vec<(usize, char)> = low.char_indices().collect();
        let n = cs.len();
        let end = |j: usize| if j < n { cs[j].0 } else { low.len() };
        let mut out = Vec::new();
        let mut i = 0;
        while i < n {
            let c = cs[i].1;
            if (c == '#' || c == '@') && (i == 0 || !self.is_w(cs[i - 1].1))
                && i + 1 < n && self.is_w(cs[i + 1].1) {
                let mut j = i + 1;
                while j < n && self.is_w(cs[j].1) {
                    j += 1;
                }
                out.push(&low[cs[i].0..end(j)]);
                i = j;
                continue;
            }
            if self.is_w(c) {
                let mut j = i;
                while j < n && self.is_w(cs[j].1) {
                    j += 1;
                }
                while j + 1 < n && cs[j].1 == '\'' && self.is_w(cs[j + 1].1) {
                    j += 1;
                    while j < n && self.is_w(cs[j].1) {
                        j += 1;
                    }
                }
                out.push(&low[cs[i].0..end(j)]);
                i = j;
                continue;
            }
            i += 1;
        }
        out
    }

    /// Spans (byte ranges) of `(?<![\w@])@\w+` in `text` (models.privacy's handles).
    pub fn handles(&self, text: &str) -> Vec<(usize, usize)> {
        let cs: Vec<(usize, char)> = text.char_indices().collect();
        let n = cs.len();
        let mut out = Vec::new();
        let mut i = 0;
        while i < n {
            if cs[i].1 == '@' && (i == 0 || !(self.is_w(cs[i - 1].1) || cs[i - 1].1 == '@'))
                && i + 1 < n && self.is_w(cs[i + 1].1) {
                let mut j = i + 1;
                while j < n && self.is_w(cs[j].1) {
                    j += 1;
                }
                out.push((cs[i].0, if j < n { cs[j].0 } else { text.len() }));
                i = j;
                continue;
            }
            i += 1;
        }
        out
    }
}
