//! Errors of a limit list: one per refused entry, each repeating the user's key
//! and value and saying what is accepted; an unknown key gets a "did you mean".

use super::Vocabulary;
use super::table::TABLE;

/// One refused entry of a limit list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[error("{key} = {value}: {message}")]
pub struct LimitError {
    /// The key as the user wrote it (dotted, e.g. `limits.cpu`).
    pub key: String,
    /// The value as the user wrote it.
    pub value: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl LimitError {
    /// The error for a key `vocabulary` does not know: the nearest keys of
    /// `vocabulary` ("did you mean"), the vocabulary that does know the key if
    /// another one does, and every key accepted.
    pub fn unknown_key(vocabulary: Vocabulary, key: &str, value: &str) -> LimitError {
        let keys: Vec<&str> = TABLE
            .iter()
            .filter(|r| r.vocabulary == vocabulary)
            .map(|r| r.key)
            .collect();
        let mut message = format!("unknown {vocabulary} key");
        let near = nearest(key, &keys);
        if !near.is_empty() {
            let near: Vec<String> = near.iter().map(|k| format!("`{k}`")).collect();
            message.push_str(&format!("; did you mean {}?", near.join(" or ")));
        }
        if let Some(other) = TABLE
            .iter()
            .find(|r| r.key == key && r.vocabulary != vocabulary)
        {
            message.push_str(&format!(
                " (`{key}` is a {} key, but these limits are in the {vocabulary} vocabulary)",
                other.vocabulary
            ));
        }
        message.push_str(&format!("; accepted: {}", keys.join(", ")));
        LimitError {
            key: key.into(),
            value: value.into(),
            message,
        }
    }
}

/// The keys of `keys` nearest to `key`: those whose last dotted part is `key`
/// (`cpu` → `requests.cpu`, `limits.cpu`), else the one at the smallest edit
/// distance if it is small (at most 2, or a third of the key's length).
fn nearest<'a>(key: &str, keys: &[&'a str]) -> Vec<&'a str> {
    let suffix: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| k.rsplit('.').next() == Some(key) && *k != key)
        .collect();
    if !suffix.is_empty() {
        return suffix;
    }
    let best = keys
        .iter()
        .map(|k| (strsim::damerau_levenshtein(key, k), *k))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, k)) if d <= (key.chars().count() / 3).max(2) => vec![k],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_keys_are_suggested() {
        let keys = ["requests.cpu", "limits.cpu", "limits.memory"];
        assert_eq!(nearest("limit.cpu", &keys), ["limits.cpu"]);
        assert_eq!(nearest("cpu", &keys), ["requests.cpu", "limits.cpu"]);
        assert_eq!(nearest("limits.memroy", &keys), ["limits.memory"]);
        assert!(nearest("gpu.count", &keys).is_empty());
    }
}
