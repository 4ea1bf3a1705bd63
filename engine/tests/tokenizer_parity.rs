//! Token ids against transformers' `CLIPTokenizer` on the committed prompt list, for both ways a
//! tokenizer folder comes: with `tokenizer.json` (tiny-mid) and with only vocab + merges (tiny-split).

mod common;

use common::*;
use engine::clip::ClipTokenizer;
use engine::store::DirStore;

#[test]
fn token_ids_match_transformers() {
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("tokenizer_cases.json")).unwrap()).unwrap();
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 30);
    for config in CONFIGS {
        let tokenizer = ClipTokenizer::load(&DirStore::new(fixture(config)).unwrap(), "tokenizer").unwrap();
        let mut mismatches = Vec::new();
        for case in cases {
            let prompt = case["prompt"].as_str().unwrap();
            let want: Vec<u32> = case["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
            let got = tokenizer.encode(prompt).unwrap();
            if got.ids != want {
                mismatches.push(format!("{prompt:?}\n  got  {:?}\n  want {:?}", got.ids, want));
            }
        }
        assert!(mismatches.is_empty(), "{config}: {} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    }
}

#[test]
fn long_prompts_are_truncated_and_say_so() {
    let tokenizer = ClipTokenizer::load(&DirStore::new(fixture("tiny-mid")).unwrap(), "tokenizer").unwrap();
    let long = "word ".repeat(100);
    let tokens = tokenizer.encode(&long).unwrap();
    assert_eq!(tokens.ids.len(), 77);
    assert_eq!(tokens.dropped, 25);
    assert_eq!(tokenizer.encode("a cat").unwrap().dropped, 0);
}
