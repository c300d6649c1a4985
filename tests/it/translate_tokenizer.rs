//! Tokenizer parity with transformers' `MarianTokenizer`: ids, tokens and
//! decoded text for ~300 varied sentences (accents, CJK, emoji, digits, runs
//! of spaces, the empty string, special tokens, `>>xx<<` codes), recorded by
//! `scripts/fixtures/make_marian.py`.

use std::path::Path;

use serde_json::Value;
use spaceport::tasks::translate::tokenizer::MarianTokenizer;

fn check(model: &str) {
    let dir = Path::new("tests/fixtures/marian").join(model);
    let tok = MarianTokenizer::load(&dir).expect("tokenizer loads");
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tokenizer_cases.json")).unwrap())
            .unwrap();
    assert!(cases.len() >= 300);
    let mut failures = Vec::new();
    for c in &cases {
        let text = c["text"].as_str().unwrap();
        let want: Vec<u32> = c["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let ids = tok.encode(text);
        if ids != want {
            failures.push(format!(
                "ids {text:?}: got {:?} {ids:?}, want {:?} {want:?}",
                tok.tokenize(text),
                c["tokens"]
            ));
            continue;
        }
        for (key, skip) in [("decoded", true), ("decoded_with_special", false)] {
            let got = tok.decode(&ids, skip);
            if got != c[key].as_str().unwrap() {
                failures.push(format!("{key} {text:?}: got {got:?}, want {:?}", c[key]));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn shared_vocabulary_matches_marian_tokenizer() {
    check("tiny-en-de");
}

#[test]
fn multi_target_codes_match_marian_tokenizer() {
    check("tiny-en-mul");
    let tok = MarianTokenizer::load(Path::new("tests/fixtures/marian/tiny-en-mul")).unwrap();
    assert_eq!(tok.language_codes, [">>deu<<", ">>fra<<", ">>spa<<"]);
}

#[test]
fn separate_vocabularies_are_refused_with_a_reason() {
    let err = MarianTokenizer::load(Path::new("tests/fixtures/marian/tiny-separate"))
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("separate source and target vocabularies"),
        "{err}"
    );
}
