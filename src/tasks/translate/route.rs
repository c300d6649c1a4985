//! Which models translate from one language into another: a direct
//! model (a multi-target one through its `>>xx<<` code, a `mul` source
//! model into English), else a pivot through English when both halves are
//! downloaded, else the model to download. The Translate page and
//! `spaceport translate --from --to` both route here, so they agree.

use std::path::PathBuf;

use crate::catalog::{Panel, catalog, language_name, marian_pair, short_code};
use crate::hub::cache::CachedModel;

/// A downloaded translation model: its repo, folder, and the target codes
/// of a multi-target model (empty for one target).
#[derive(Clone, Debug)]
pub struct InstalledModel {
    pub repo: String,
    pub dir: PathBuf,
    pub language_codes: Vec<String>,
}

/// One downloaded model for one language pair (a multi-target model gives
/// one per target code it accepts).
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub src: String,
    pub tgt: String,
    pub repo: String,
    pub dir: PathBuf,
    /// The target code to give the model, for multi-target models.
    pub code: Option<String>,
}

/// What a language pair runs on.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    Direct(Pair),
    /// Into English with the first, out of English with the second.
    Pivot(Pair, Pair),
    /// A model to get first; `size_mb` when the catalog knows it.
    Get {
        repo: String,
        size_mb: Option<u64>,
    },
}

impl Route {
    /// The models to run in turn, or `None` when one must be downloaded.
    pub fn steps(&self) -> Option<Vec<&Pair>> {
        match self {
            Route::Direct(p) => Some(vec![p]),
            Route::Pivot(a, b) => Some(vec![a, b]),
            Route::Get { .. } => None,
        }
    }
}

/// The translation models in a cache scan, at their main revision.
pub fn installed(cached: &[CachedModel]) -> Vec<InstalledModel> {
    cached
        .iter()
        .filter(|m| m.verdict.panel() == Some(Panel::Translate))
        .filter_map(|m| {
            Some(InstalledModel {
                repo: m.repo.clone(),
                dir: m.main_revision()?.path.clone(),
                language_codes: m.language_codes.clone(),
            })
        })
        .collect()
}

/// Every language pair the downloaded models offer.
pub fn pairs(models: &[InstalledModel]) -> Vec<Pair> {
    let mut out = Vec::new();
    for m in models {
        let Some((src, tgt)) = marian_pair(&m.repo) else {
            continue;
        };
        let pair = |tgt: String, code: Option<String>| Pair {
            src: src.clone(),
            tgt,
            repo: m.repo.clone(),
            dir: m.dir.clone(),
            code,
        };
        if m.language_codes.is_empty() {
            out.push(pair(tgt, None));
        } else {
            out.extend(
                m.language_codes
                    .iter()
                    .map(|c| pair(short_code(c).to_string(), Some(c.clone()))),
            );
        }
    }
    out
}

/// How to translate `from` → `to` with `models`.
pub fn route(models: &[InstalledModel], from: &str, to: &str) -> Route {
    let have = pairs(models);
    let find = |a: &str, b: &str| {
        have.iter()
            .find(|p| p.src == a && p.tgt == b)
            .or_else(|| {
                (b == "en")
                    .then(|| have.iter().find(|p| p.src == "mul" && p.tgt == "en"))
                    .flatten()
            })
            .cloned()
    };
    if let Some(p) = find(from, to) {
        return Route::Direct(p);
    }
    if from != "en"
        && to != "en"
        && let (Some(first), Some(second)) = (find(from, "en"), find("en", to))
    {
        return Route::Pivot(first, second);
    }
    let listed = catalog().for_panel(Panel::Translate).find(|m| {
        m.languages.first().map(String::as_str) == Some(from)
            && m.languages.get(1).map(String::as_str) == Some(to)
    });
    match listed {
        Some(m) => Route::Get {
            repo: m.repo.clone(),
            size_mb: Some(m.size_mb),
        },
        None => Route::Get {
            repo: format!("Helsinki-NLP/opus-mt-{from}-{to}"),
            size_mb: None,
        },
    }
}

/// Languages to offer as sources and targets: from the downloaded models,
/// the catalog, and every language Spaceport names; sorted by name.
pub fn languages(models: &[InstalledModel]) -> (Vec<String>, Vec<String>) {
    let mut from: Vec<String> = Vec::new();
    let mut to: Vec<String> = Vec::new();
    let listed = catalog()
        .for_panel(Panel::Translate)
        .filter_map(|m| marian_pair(&m.repo));
    for (s, t) in pairs(models)
        .into_iter()
        .map(|p| (p.src, p.tgt))
        .chain(listed)
    {
        if s != "mul" && !from.contains(&s) {
            from.push(s.clone());
        }
        if !to.contains(&t) {
            to.push(t);
        }
    }
    for l in crate::catalog::LANGUAGES.iter().map(|(two, _)| *two) {
        for v in [&mut from, &mut to] {
            if !v.iter().any(|x| x == l) {
                v.push(l.to_string());
            }
        }
    }
    from.sort_by_key(|c| language_name(c));
    to.sort_by_key(|c| language_name(c));
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(repo: &str, codes: &[&str]) -> InstalledModel {
        InstalledModel {
            repo: repo.into(),
            dir: PathBuf::from(repo),
            language_codes: codes.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn direct_pivot_and_get() {
        let models = [
            model("Helsinki-NLP/opus-mt-de-en", &[]),
            model("Helsinki-NLP/opus-mt-en-mul", &["fra", "deu"]),
        ];
        let Route::Direct(p) = route(&models, "en", "fr") else {
            panic!("en→fr is direct through >>fra<<");
        };
        assert_eq!(p.code.as_deref(), Some("fra"));
        let Route::Pivot(a, b) = route(&models, "de", "fr") else {
            panic!("de→fr pivots through English");
        };
        assert_eq!((a.src.as_str(), a.tgt.as_str()), ("de", "en"));
        assert_eq!(b.code.as_deref(), Some("fra"));
        assert!(matches!(route(&models, "fr", "de"), Route::Get { .. }));
    }
}
