//! models.matcher.Matcher: the entities a post names, by whole-token phrases.

use crate::fxhash::{FxHashMap as HashMap, FxHashSet as HashSet};

pub struct Matcher {
    /// Token that can start a phrase -> (the phrase's remaining tokens, its entities).
    starts: HashMap<String, Vec<(Vec<String>, Vec<usize>)>>,
}

fn forms(token: &str) -> Vec<&str> {
    // A hashtag also names its bare word; a possessive names the thing.
    let mut out = vec![token];
    let chars = token.chars().count();
    if token.starts_with('#') && chars > 1 {
        out.push(&token[1..]);
    } else if token.ends_with("'s") && chars > 2 {
        out.push(&token[..token.len() - 2]);
    }
    out
}

impl Matcher {
    /// `phrases`: each phrase's tokens (models.matcher.tokens of the term) and the
    /// indices (watchlist order) of the entities it names.
    pub fn new(phrases: Vec<(Vec<String>, Vec<usize>)>) -> Self {
        let mut merged: Vec<(Vec<String>, HashSet<usize>)> = Vec::new();
        for (key, ids) in phrases {
            if key.is_empty() {
                continue;
            }
            match merged.iter_mut().find(|(k, _)| *k == key) {
                Some((_, set)) => set.extend(ids),
                None => merged.push((key, ids.into_iter().collect())),
            }
        }
        let firsts: HashSet<&str> = merged.iter().map(|(k, _)| k[0].as_str()).collect();
        let mut starts: HashMap<String, Vec<(Vec<String>, Vec<usize>)>> = HashMap::default();
        let mut triggers: HashSet<String> = HashSet::default();
        for f in &firsts {
            triggers.insert(f.to_string());
            triggers.insert(format!("#{f}"));
            triggers.insert(format!("{f}'s"));
        }
        for trigger in triggers {
            let mut seen: HashSet<&str> = HashSet::default();
            for first in forms(&trigger) {
                if !firsts.contains(first) || !seen.insert(first) {
                    continue;
                }
                for (key, ids) in &merged {
                    if key[0] == first {
                        let mut ids: Vec<usize> = ids.iter().copied().collect();
                        ids.sort_unstable();
                        starts.entry(trigger.clone()).or_default()
                            .push((key[1..].to_vec(), ids));
                    }
                }
            }
        }
        Matcher { starts }
    }

    /// Entity indices named by `toks`, ascending (watchlist order), each once.
    pub fn match_tokens(&self, toks: &[&str]) -> Vec<usize> {
        let mut found: Vec<usize> = Vec::new();
        for (i, tok) in toks.iter().enumerate() {
            if let Some(entries) = self.starts.get(*tok) {
                for (rest, ids) in entries {
                    let n = rest.len();
                    if n == 0 || (i + 1 + n <= toks.len()
                                  && rest.iter().zip(&toks[i + 1..i + 1 + n]).all(|(a, b)| a == b)) {
                        found.extend_from_slice(ids);
                    }
                }
            }
        }
        if found.len() > 1 {
            found.sort_unstable();
            found.dedup();
        }
        found
    }
}
