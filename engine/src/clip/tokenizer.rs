//! CLIP's BPE tokenizer through the `tokenizers` crate, loaded from a diffusers `tokenizer/`
//! folder: `tokenizer.json` when present, else `vocab.json` + `merges.txt` assembled exactly as
//! transformers' `CLIPTokenizer` does (NFC, whitespace runs → one space, lower-case; CLIP's split
//! regex; byte-level BPE with `</w>` word ends). Every prompt becomes `model_max_length` ids
//! (`tokenizer_config.json`; 77, CLIP's, when absent): `<|startoftext|>`, at most that many
//! less two tokens, `<|endoftext|>`, then padding.

use std::collections::HashMap;

use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::{Lowercase, Replace, Sequence as NormalizerSequence, NFC};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence as PreTokenizerSequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use crate::store::ModelStore;
use crate::EngineError;

/// CLIP's context length: the tokenizer's length when its config names none.
pub const CLIP_TOKENS: usize = 77;
/// A `model_max_length` above this is transformers' "no limit" sentinel (~1e30), not a length.
const SENTINEL_ABOVE: f64 = 1e6;
const BOS: &str = "<|startoftext|>";
const EOS: &str = "<|endoftext|>";
const SPLIT: &str = r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

pub struct ClipTokenizer {
    tokenizer: Tokenizer,
    bos: u32,
    eos: u32,
    pad: u32,
    max_tokens: usize,
}

/// A tokenised prompt.
#[derive(Clone, Debug, PartialEq)]
pub struct Tokens {
    pub ids: Vec<u32>,
    /// How many tokens were cut to fit the tokenizer's length (diffusers truncates and warns too).
    pub dropped: usize,
}

impl ClipTokenizer {
    /// From `folder` (usually `tokenizer`) in a model store.
    pub fn load(store: &dyn ModelStore, folder: &str) -> Result<Self, EngineError> {
        let json_path = format!("{folder}/tokenizer.json");
        let tokenizer = if store.exists(&json_path) {
            Tokenizer::from_bytes(store.read_text(&json_path)?.as_bytes())
                .map_err(|e| EngineError::BadFile { file: format!("{}/{json_path}", store.name()), problem: format!("not a tokenizer: {e}") })?
        } else {
            let vocab_path = format!("{folder}/vocab.json");
            let vocab: HashMap<String, u32> = serde_json::from_str(&store.read_text(&vocab_path)?)
                .map_err(|e| EngineError::BadFile { file: format!("{}/{vocab_path}", store.name()), problem: e.to_string() })?;
            let merges_path = format!("{folder}/merges.txt");
            let merges = parse_merges(&store.read_text(&merges_path)?, &format!("{}/{merges_path}", store.name()))?;
            Self::assemble(vocab, merges).map_err(|e| EngineError::BadFile { file: format!("{}/{folder}", store.name()), problem: e })?
        };
        let special_tokens_map = read_json(store, folder, "special_tokens_map.json")?;
        let config = read_json(store, folder, "tokenizer_config.json")?;
        let pad_name = special_token(&[&special_tokens_map, &config], "pad_token").unwrap_or_else(|| EOS.to_string());
        let id = |token: &str| {
            tokenizer
                .token_to_id(token)
                .ok_or_else(|| EngineError::BadFile { file: format!("{}/{folder}", store.name()), problem: format!("the vocabulary has no {token:?} token") })
        };
        let max_tokens = model_max_length(&config)?;
        Ok(Self { bos: id(BOS)?, eos: id(EOS)?, pad: id(&pad_name)?, max_tokens, tokenizer })
    }

    /// Ids per prompt (the text encoder sees this many states).
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    fn assemble(vocab: HashMap<String, u32>, merges: Vec<(String, String)>) -> Result<Tokenizer, String> {
        let bpe = BPE::builder()
            .vocab_and_merges(vocab.into_iter().collect::<ahash::AHashMap<_, _>>(), merges)
            .end_of_word_suffix("</w>".into())
            .continuing_subword_prefix(String::new())
            .unk_token(EOS.into())
            .fuse_unk(false)
            .build()
            .map_err(|e| e.to_string())?;
        let mut tokenizer = Tokenizer::new(bpe);
        let whitespace = Replace::new(tokenizers::normalizers::replace::ReplacePattern::Regex(r"\s+".into()), " ").map_err(|e| e.to_string())?;
        tokenizer.with_normalizer(Some(NormalizerSequence::new(vec![NFC.into(), whitespace.into(), Lowercase.into()]))).map_err(|e| e.to_string())?;
        let split = Split::new(SplitPattern::Regex(SPLIT.into()), SplitDelimiterBehavior::Removed, true).map_err(|e| e.to_string())?;
        tokenizer.with_pre_tokenizer(Some(PreTokenizerSequence::new(vec![split.into(), ByteLevel::new(false, true, true).into()])));
        tokenizer.add_special_tokens([AddedToken::from(BOS, true), AddedToken::from(EOS, true)]).map_err(|e| e.to_string())?;
        Ok(tokenizer)
    }

    pub fn encode(&self, text: &str) -> Result<Tokens, EngineError> {
        let encoding = self.tokenizer.encode(text, false).map_err(|e| EngineError::Request(format!("could not tokenise the prompt: {e}")))?;
        let content = encoding.get_ids();
        let kept = content.len().min(self.max_tokens - 2);
        let mut ids = Vec::with_capacity(self.max_tokens);
        ids.push(self.bos);
        ids.extend_from_slice(&content[..kept]);
        ids.push(self.eos);
        ids.resize(self.max_tokens, self.pad);
        Ok(Tokens { ids, dropped: content.len() - kept })
    }
}

fn parse_merges(text: &str, file: &str) -> Result<Vec<(String, String)>, EngineError> {
    text.lines()
        .filter(|line| !line.starts_with("#version") && !line.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(a), Some(b), None) => Ok((a.to_string(), b.to_string())),
                _ => Err(EngineError::BadFile { file: file.into(), problem: format!("merge {} is not two tokens: {line:?}", i + 1) }),
            }
        })
        .collect()
}

/// A JSON file of the tokenizer folder, with the store-qualified name errors should give;
/// `None` when the folder has no such file (all of them are optional).
fn read_json(store: &dyn ModelStore, folder: &str, name: &str) -> Result<Option<(String, serde_json::Value)>, EngineError> {
    let path = format!("{folder}/{name}");
    if !store.exists(&path) {
        return Ok(None);
    }
    let file = format!("{}/{path}", store.name());
    let value = serde_json::from_str(&store.read_text(&path)?).map_err(|e| EngineError::BadFile { file: file.clone(), problem: e.to_string() })?;
    Ok(Some((file, value)))
}

/// `model_max_length` from `tokenizer_config.json`: CLIP's 77 when the file or the field is
/// absent or holds transformers' "no limit" sentinel; an error below 3 (start, one token, end).
fn model_max_length(config: &Option<(String, serde_json::Value)>) -> Result<usize, EngineError> {
    let Some((file, value)) = config else { return Ok(CLIP_TOKENS) };
    match value.get("model_max_length").and_then(serde_json::Value::as_f64) {
        None => Ok(CLIP_TOKENS),
        Some(n) if n > SENTINEL_ABOVE => Ok(CLIP_TOKENS),
        Some(n) if n >= 3.0 && n.fract() == 0.0 => Ok(n as usize),
        Some(n) => Err(EngineError::BadFile {
            file: file.clone(),
            problem: format!("model_max_length {n} leaves no room for a prompt: it must be a whole number of at least 3"),
        }),
    }
}

/// A special token's text from the first of `files` (`special_tokens_map.json`, then
/// `tokenizer_config.json`) that names it, as a string or an object with `content`.
fn special_token(files: &[&Option<(String, serde_json::Value)>], name: &str) -> Option<String> {
    files.iter().filter_map(|file| file.as_ref()).find_map(|(_, value)| match &value[name] {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => match o.get("content") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    })
}
