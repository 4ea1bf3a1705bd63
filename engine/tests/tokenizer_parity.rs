//! Token ids against transformers' `CLIPTokenizer` on the committed prompt list, for both ways a
//! tokenizer folder comes: with `tokenizer.json` (tiny-mid) and with only vocab + merges (tiny-split).

mod common;

use common::*;
use engine::clip::ClipTokenizer;
use engine::store::DirStore;

#[test]
fn token_ids_match_transformers() {
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("tokenizer_cases.json")).unwrap()).unwrap();
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

/// A tokenizer config's `model_max_length` sets the length (the demo model uses 24), padded and
/// cut as transformers does (`ids_24` in the fixture); transformers' "no limit" sentinel means CLIP's 77.
#[test]
fn model_max_length_sets_the_length() {
    let source = fixture("tiny-mid/tokenizer");
    let dir = std::env::temp_dir().join(format!("freenoise-tokenizer-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tokenizer")).unwrap();
    for name in ["vocab.json", "merges.txt", "tokenizer_config.json"] {
        std::fs::copy(source.join(name), dir.join("tokenizer").join(name)).unwrap();
    }
    let with_length = |length: serde_json::Value| {
        let path = dir.join("tokenizer/tokenizer_config.json");
        let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        config["model_max_length"] = length;
        std::fs::write(&path, config.to_string()).unwrap();
        ClipTokenizer::load(&DirStore::new(&dir).unwrap(), "tokenizer").unwrap()
    };
    let short = with_length(24.into());
    assert_eq!(short.max_tokens(), 24);
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("tokenizer_cases.json")).unwrap()).unwrap();
    for case in cases.as_array().unwrap() {
        let prompt = case["prompt"].as_str().unwrap();
        let want: Vec<u32> = case["ids_24"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(short.encode(prompt).unwrap().ids, want, "{prompt:?}");
    }
    let sentinel = with_length(serde_json::json!(1e30));
    assert_eq!(sentinel.max_tokens(), 77);
    std::fs::remove_dir_all(&dir).unwrap();
}
