//! models.hostility.markers, ported by hand: the bit flags of a post's hostility
//! markers (demand, sarcasm, question, and a call to action from
//! models.calls_to_action).
//!
//! The Python regular expressions stay the specification. They use lookahead and
//! lazy repeats, which the `regex` crate lacks, and Python's own `\w`, `\s`, `\b` and
//! IGNORECASE, which no crate has, so each alternative is written out here as the scan
//! that decides whether it matches somewhere. Python's order of matches does not
//! matter for the flags (see `demand`). The word lists (stems, phrases, the "#...out"
//! words that are no demand) come from the Python modules; models/compiled.py refuses
//! to start if the patterns themselves are not the ones ported here.

use crate::fxhash::{FxHashMap as HashMap, FxHashSet as HashSet};
use crate::text::Tables;

pub const DEMAND: i64 = 1;
pub const SARCASM: i64 = 2;
pub const QUESTION: i64 = 4;
pub const CALL: i64 = 8;

/// The irony emoji of `_IRONY`'s character class: 🙄🙃😒🤡🤦😏.
const IRONY_EMOJI: [char; 6] = ['\u{1F644}', '\u{1F643}', '\u{1F612}', '\u{1F921}',
                                '\u{1F926}', '\u{1F60F}'];
/// `_IRONY`'s phrases, each between `\b`s, with its optional parts spelt out.
const IRONY_PHRASES: [&str; 18] = [
    "so in touch", "thanks for nothing", "lovely to see", "great to know what",
    "what could go wrong", "what could possibly go wrong", "slow clap",
    "couldn't make it up", "couldnt make it up", "said no one ever",
    "how lovely", "how nice", "how thoughtful", "how reassuring",
    "how very lovely", "how very nice", "how very thoughtful", "how very reassuring",
];
/// `_QUESTION`'s fixed phrases, each between `\b`s, optional parts spelt out.
const QUESTION_PHRASES: [&str; 17] = [
    "what's going on with", "what is going on with", "why is everyone talking about",
    "why is everybody talking about", "can someone explain", "can anyone explain",
    "what on earth", "what the hell", "is this real", "is this a joke",
    "how is this allowed", "how is this ok", "how is this okay", "how is this legal",
    "how is this acceptable", "are you serious", "are they serious",
];
const MODALS: [&str; 7] = ["must", "should", "need to", "needs to", "has to", "have to",
                           "ought to"];
const GO: [&str; 9] = ["go", "resign", "quit", "step down", "stand down", "be sacked",
                       "be fired", "sacked", "fired"];
/// The words after "must go" that make it no demand ("must go to", "should go ahead").
const GO_ON: [&str; 15] = ["to", "and", "on", "for", "out", "back", "home", "through", "ahead",
                           "with", "in", "there", "by", "up", "over"];
const PRONOUNS: [&str; 3] = ["him", "her", "them"];

/// The hostility markers' word lists and the Unicode that Python's `re` reads them with.
pub struct Markers {
    /// models.hostility._TRIGGERS and _IRONY_EMOJI (might_mark).
    triggers: HashSet<String>,
    irony: Vec<char>,
    /// The substrings one of which a match must contain (each module's pre-check), by
    /// their first byte, each with the bits of the markers whose pre-check it passes;
    /// `always`: the bits of an empty stem.
    stems: Vec<Vec<(Box<[u8]>, i64)>>,
    always: i64,
    /// Stems of "#<stem>out" that are ordinary words (models.hostility._NOT_DEMANDS).
    not_demands: HashSet<String>,
    /// models.calls_to_action.CALL_PHRASES (ASCII, lower-cased: IGNORECASE), and the
    /// fixed phrases of `_IRONY` and `_QUESTION`.
    call_phrases: Phrases,
    irony_phrases: Phrases,
    question_phrases: Phrases,
    /// Python `re`'s `\s`, sorted.
    space: Vec<char>,
    /// Non-ASCII characters that an ASCII letter matches under re.IGNORECASE ("ı" for
    /// "i" survives casefold), and that letter.
    ignorecase: HashMap<char, char>,
}

/// `s` starts with `prefix` (a short one: inlined, where a slice comparison calls memcmp).
#[inline]
fn starts(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Phrases by their first byte (all ASCII, lower case).
struct Phrases {
    by_first: Vec<Vec<Box<[u8]>>>,
}

impl Phrases {
    fn new<S: AsRef<str>>(phrases: &[S]) -> Self {
        let mut by_first: Vec<Vec<Box<[u8]>>> = vec![Vec::new(); 128];
        for p in phrases {
            let p = p.as_ref().to_ascii_lowercase().into_bytes();
            by_first[p.first().map_or(0, |b| *b as usize) & 127].push(p.into());
        }
        Phrases { by_first }
    }

    /// One of the phrases then `\b`, at `i` (the caller has checked the `\b` before).
    fn word_at(&self, t: &Text, i: usize) -> bool {
        let Some(&first) = t.f.get(i) else { return false };
        self.by_first[first as usize & 127].iter()
            .any(|p| starts(&t.f[i..], p) && t.b(i + p.len()))
    }
}

/// A casefolded post, one entry per code point, with Python `re`'s character tests.
struct Text<'a> {
    c: Vec<char>,
    /// The ASCII character each code point matches under re.IGNORECASE, lower case
    /// (0 for none): the patterns are ASCII, so a match is a byte comparison.
    f: Vec<u8>,
    /// `\w`.
    w: Vec<bool>,
    m: &'a Markers,
}

impl<'a> Text<'a> {
    fn new(low: &str, tables: &Tables, m: &'a Markers) -> Self {
        let c: Vec<char> = low.chars().collect();
        let f = c.iter().map(|&c| if c.is_ascii() {
            c.to_ascii_lowercase() as u8
        } else {
            m.ignorecase.get(&c).map_or(0, |a| *a as u8)
        }).collect();
        let w = c.iter().map(|&c| tables.is_w(c)).collect();
        Text { c, f, w, m }
    }

    #[inline]
    fn w(&self, i: usize) -> bool {
        self.w.get(i).copied().unwrap_or(false)
    }

    /// `\b` before position `i`.
    #[inline]
    fn b(&self, i: usize) -> bool {
        (i > 0 && self.w(i - 1)) != self.w(i)
    }

    #[inline]
    fn sp(&self, i: usize) -> bool {
        i < self.c.len() && self.m.space.binary_search(&self.c[i]).is_ok()
    }

    /// The end of the run of `\s` from `i` (`i` itself when there is none).
    fn spaces(&self, mut i: usize) -> usize {
        while self.sp(i) {
            i += 1;
        }
        i
    }

    /// The end of the run of `\w` from `i`.
    fn run(&self, mut i: usize) -> usize {
        while self.w(i) {
            i += 1;
        }
        i
    }

    /// The character at `i` matches the pattern's (ASCII) `p` under re.IGNORECASE.
    #[inline]
    fn is(&self, i: usize, p: u8) -> bool {
        self.f.get(i) == Some(&p)
    }

    /// The end of the (ASCII) `s` matched at `i`, if it is there.
    #[inline]
    fn lit(&self, i: usize, s: &str) -> Option<usize> {
        starts(self.f.get(i..)?, s.as_bytes()).then_some(i + s.len())
    }

    /// `s\b` at `i` (the caller has checked the `\b` before).
    fn word(&self, i: usize, s: &str) -> Option<usize> {
        self.lit(i, s).filter(|e| self.b(*e))
    }

    /// `s\b` at `i`, for any `s` of `words`.
    fn any_word(&self, i: usize, words: &[&str]) -> bool {
        words.iter().any(|s| self.word(i, s).is_some())
    }

    /// `\s+` then one of `words` then `\b`, at `i`. A `\s+` followed by a letter can
    /// only match the whole run of spaces, so no backtracking is needed.
    fn then_word(&self, i: usize, words: &[&str]) -> Option<usize> {
        let k = self.spaces(i);
        if k == i {
            return None;
        }
        words.iter().find_map(|s| self.word(k, s))
    }

    /// `[^?]{0,limit}\b(?:words)\b` from `i`.
    fn soon(&self, i: usize, limit: usize, words: &[&str]) -> bool {
        let mut k = i;
        loop {
            if self.b(k) && self.any_word(k, words) {
                return true;
            }
            if k - i == limit || k >= self.c.len() || self.c[k] == '?' {
                return false;
            }
            k += 1;
        }
    }
}

impl Markers {
    #[allow(clippy::too_many_arguments)]
    pub fn new(triggers: Vec<String>, irony: Vec<char>, demand_stems: Vec<String>,
               not_demands: Vec<String>, question_stems: Vec<String>, call_stems: Vec<String>,
               call_phrases: Vec<String>, mut space: Vec<char>,
               ignorecase: HashMap<char, char>) -> Self {
        space.sort_unstable();
        let mut stems: Vec<Vec<(Box<[u8]>, i64)>> = vec![Vec::new(); 256];
        let mut always = 0;
        let lists = [(demand_stems, DEMAND), (question_stems, QUESTION), (call_stems, CALL)];
        for (list, bit) in lists {
            for stem in list {
                let Some(&first) = stem.as_bytes().first() else {
                    always |= bit;
                    continue;
                };
                let row = &mut stems[first as usize];
                match row.iter_mut().find(|(s, _)| **s == *stem.as_bytes()) {
                    Some((_, bits)) => *bits |= bit,
                    None => row.push((stem.as_bytes().into(), bit)),
                }
            }
        }
        Markers {
            triggers: triggers.into_iter().collect(),
            irony,
            stems,
            always,
            not_demands: not_demands.into_iter().collect(),
            call_phrases: Phrases::new(&call_phrases),
            irony_phrases: Phrases::new(&IRONY_PHRASES),
            question_phrases: Phrases::new(&QUESTION_PHRASES),
            space,
            ignorecase,
        }
    }

    /// models.hostility.might_mark: false when the post cannot carry a marker.
    pub fn might_mark(&self, toks: &[&str], text: &str) -> bool {
        if toks.iter().any(|t| self.triggers.contains(*t)) {
            return true;
        }
        if text.contains('#') && toks.iter().any(|t| t.starts_with('#')) {
            return true;
        }
        self.irony.iter().any(|e| text.contains(*e))
    }

    /// models.hostility.markers: the bit flags of the post's markers.
    pub fn flags(&self, tables: &Tables, text: &str) -> i64 {
        let low = tables.casefold(text);
        let stems = self.stems_in(low.as_bytes());
        let t = Text::new(&low, tables, self);
        let mut flags = 0;
        if stems & DEMAND != 0 && self.demand(&t) {
            flags |= DEMAND;
        }
        if sarcasm(&t) {
            flags |= SARCASM;
        }
        if stems & QUESTION != 0 && self.question(&t) {
            flags |= QUESTION;
        }
        if stems & CALL != 0 && self.call(&t) {
            flags |= CALL;
        }
        flags
    }

    /// The markers whose pre-check `low` passes (`any(stem in low for stem in ...)`), in
    /// one pass (a substring of valid UTF-8 is one of its bytes).
    fn stems_in(&self, low: &[u8]) -> i64 {
        let mut found = self.always;
        for (j, b) in low.iter().enumerate() {
            for (stem, bits) in &self.stems[*b as usize] {
                if found & bits != *bits && starts(&low[j..], stem) {
                    found |= bits;
                }
            }
        }
        found
    }

    /// `_DEMAND` has a match whose `stem` group is not an ordinary word.
    ///
    /// Python walks the matches with finditer, but whether one of them counts does not
    /// depend on that walk: the only match that does not count, `#<stem>out`, spans a
    /// '#' and the whole run of `\w` after it, and no alternative can start inside
    /// that run (after its first character there is no `\b`, and at its first
    /// character every alternative needs a space or ends before "out"). So each
    /// alternative is looked for on its own.
    fn demand(&self, t: &Text) -> bool {
        let n = t.c.len();
        for i in 0..n {
            if t.c[i] == '#' {
                let (start, end) = (i + 1, t.run(i + 1));
                let len = end - start;
                // #(?:sack|oust|resign)\w*
                if ["sack", "oust", "resign"].iter().any(|s| t.lit(start, s).is_some()) {
                    return true;
                }
                // #\w+(?:mustgo|mustresign|mustquit|resign|resignnow)\b: the suffix ends
                // the run, since `\b` follows a letter.
                if ["mustgo", "mustresign", "mustquit", "resign", "resignnow"].iter()
                    .any(|s| len > s.len() && t.lit(end - s.len(), s).is_some()) {
                    return true;
                }
                // #(?P<stem>\w{2,}?)out\b: likewise the stem is the run but "out".
                if len >= 5 && t.lit(end - 3, "out").is_some() {
                    let stem: String = t.c[start..end - 3].iter().collect();
                    if !self.not_demands.contains(&stem) {
                        return true;
                    }
                }
                continue;
            }
            // Every other alternative starts with `\b`.
            if !t.b(i) {
                continue;
            }
            // \b(?:sack|oust)\s+(?:him|her|them|the\s+\w+|\w+)\b: any word after the spaces.
            for s in ["sack", "oust"] {
                if let Some(j) = t.lit(i, s) {
                    let k = t.spaces(j);
                    if k > j && t.w(k) {
                        return true;
                    }
                }
            }
            // \bfire\s+(?:him|her|them)\b
            if t.lit(i, "fire").and_then(|j| t.then_word(j, &PRONOUNS)).is_some() {
                return true;
            }
            // \b(?:must|...)\s+(?:be\s+)?(?:go|...)\b(?!\s+(?:to|...)\b)
            for modal in MODALS {
                let Some(j) = t.lit(i, modal) else { continue };
                let k = t.spaces(j);
                if k == j {
                    continue;
                }
                let mut starts = vec![k];
                if let Some(e) = t.lit(k, "be") {
                    let m = t.spaces(e);
                    if m > e {
                        starts.push(m);
                    }
                }
                for s in starts {
                    for verb in GO {
                        if let Some(e) = t.word(s, verb) {
                            if t.then_word(e, &GO_ON).is_none() {
                                return true;
                            }
                        }
                    }
                }
            }
            // \b(?:resign|step down|stand down)\s*(?:now|today|immediately|!|\.|$)
            for s in ["resign", "step down", "stand down"] {
                if let Some(j) = t.lit(i, s) {
                    let k = t.spaces(j);
                    if k == n || t.c[k] == '!' || t.c[k] == '.'
                        || ["now", "today", "immediately"].iter().any(|w| t.lit(k, w).is_some()) {
                        return true;
                    }
                }
            }
            // \bresignation\b, \bno confidence\b
            if t.any_word(i, &["resignation", "no confidence"]) {
                return true;
            }
            // \bheads?\s+(?:must|should|will)\s+roll\b
            if let Some(mut j) = t.lit(i, "head") {
                if t.is(j, b's') {
                    j += 1;
                }
                if t.then_word(j, &["must", "should", "will"])
                    .and_then(|e| t.then_word(e, &["roll"])).is_some() {
                    return true;
                }
            }
            // \bget\s+(?:him|her|them)\s+out\b
            if t.lit(i, "get").and_then(|j| t.then_word(j, &PRONOUNS))
                .and_then(|e| t.then_word(e, &["out"])).is_some() {
                return true;
            }
        }
        false
    }

    /// `_QUESTION` matches somewhere.
    fn question(&self, t: &Text) -> bool {
        for i in 0..t.c.len() {
            if !t.b(i) {
                continue;
            }
            // \bwho (?:is|tf is|the hell is|even is)\b[^?]{0,60}\bwhy\b
            if let Some(j) = t.lit(i, "who ") {
                if let Some(e) = ["is", "tf is", "the hell is", "even is"].iter()
                    .find_map(|s| t.word(j, s)) {
                    if t.soon(e, 60, &["why"]) {
                        return true;
                    }
                }
            }
            // \bwhy is\b[^?]{0,40}\btrending\b
            if let Some(e) = t.word(i, "why is") {
                if t.soon(e, 40, &["trending"]) {
                    return true;
                }
            }
            // \bwhat (?:has|did) (?!you\b|i\b|we\b|u\b)[^?]{0,40}\b(?:do|done|say|said)\b
            if let Some(j) = ["what has ", "what did "].iter().find_map(|s| t.lit(i, s)) {
                if !t.any_word(j, &["you", "i", "we", "u"])
                    && t.soon(j, 40, &["do", "done", "say", "said"]) {
                    return true;
                }
            }
            if self.question_phrases.word_at(t, i) {
                return true;
            }
        }
        false
    }

    /// models.calls_to_action's `_CALLS` matches somewhere.
    fn call(&self, t: &Text) -> bool {
        for i in 0..t.c.len() {
            if t.c[i] == '#' {
                let (start, end) = (i + 1, t.run(i + 1));
                // #(?:boycott|scrap|stop|sack|ban|resign|petition|protest)\w*
                if ["boycott", "scrap", "stop", "sack", "ban", "resign", "petition", "protest"]
                    .iter().any(|s| t.lit(start, s).is_some()) {
                    return true;
                }
                // #\w+(?:must|should)go\b
                if ["mustgo", "shouldgo"].iter()
                    .any(|s| end - start > s.len() && t.lit(end - s.len(), s).is_some()) {
                    return true;
                }
            }
            // \b(?:<CALL_PHRASES>)\b
            if t.b(i) && self.call_phrases.word_at(t, i) {
                return true;
            }
        }
        false
    }
}

/// `_IRONY` matches somewhere.
fn sarcasm(t: &Text) -> bool {
    for i in 0..t.c.len() {
        let c = t.c[i];
        if IRONY_EMOJI.contains(&c) {
            return true;
        }
        // (?:^|\s)/s\b
        if c == '/' && (i == 0 || t.sp(i - 1)) && t.is(i + 1, b's') && t.b(i + 2) {
            return true;
        }
        if !t.b(i) {
            continue;
        }
        // \byeah,? right\b
        if let Some(mut j) = t.lit(i, "yeah") {
            if t.is(j, b',') {
                j += 1;
            }
            if t.word(j, " right").is_some() {
                return true;
            }
        }
        if t.m.irony_phrases.word_at(t, i) {
            return true;
        }
    }
    false
}
