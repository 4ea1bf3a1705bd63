//! The safetensors container: an 8-byte little-endian header length, a JSON header naming each
//! tensor's dtype, shape and byte range, then the data. Parsed by hand (not by the `safetensors`
//! crate) so that the page can read the header first and then stream one tensor at a time,
//! never holding a whole multi-GB file; every lie a header can tell is checked before use.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::EngineError;

/// Storage dtypes we read. Everything is upcast to f32 (or kept f16 on devices that have it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum Dtype {
    F32,
    F16,
    BF16,
    /// Only in buffers such as old CLIP checkpoints' `position_ids`; read as f32 if asked.
    I64,
}

impl Dtype {
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::BF16 => 2,
            Dtype::I64 => 8,
        }
    }
}

/// Reads and validates the header of a safetensors source (two small reads; no tensor data).
pub fn read_header(source: &mut dyn super::ByteSource) -> Result<Header, EngineError> {
    let name = source.name().to_string();
    let size = source.size();
    let first = source.read_range(0, 8.min(size))?;
    let prefix_len = header_len(&first, &name)?.min(size);
    let prefix = source.read_range(0, prefix_len)?;
    parse_header(&prefix, size, &name)
}

/// Where one tensor lives in the file, already checked against the file's size.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// Absolute byte range in the file.
    pub start: u64,
    pub end: u64,
}

/// A parsed, validated header.
#[derive(Clone, Debug)]
pub struct Header {
    pub tensors: BTreeMap<String, TensorInfo>,
    /// Size in bytes of the 8-byte length plus the JSON header: where the data starts.
    pub data_start: u64,
}

/// Headers above this size are refused: real ones are a few hundred KB.
const MAX_HEADER_BYTES: u64 = 100 << 20;

#[derive(Deserialize)]
struct RawEntry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [u64; 2],
}

/// How many bytes to read from the start of the file to parse the header: call with the first
/// 8 bytes.
pub fn header_len(first_bytes: &[u8], file: &str) -> Result<u64, EngineError> {
    let bytes: [u8; 8] =
        first_bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(|| bad(file, "shorter than the 8-byte header length: truncated or not safetensors"))?;
    let len = u64::from_le_bytes(bytes);
    if len > MAX_HEADER_BYTES {
        return Err(bad(file, &format!("header claims {len} bytes (limit {MAX_HEADER_BYTES}): not a safetensors file")));
    }
    Ok(8 + len)
}

/// Parses the header from the file's first `header_len` bytes, checking every tensor's byte range
/// against `file_size` and its dtype and shape.
pub fn parse_header(prefix: &[u8], file_size: u64, file: &str) -> Result<Header, EngineError> {
    let data_start = header_len(prefix, file)?;
    if data_start > file_size {
        return Err(bad(file, &format!("header of {data_start} bytes does not fit in a {file_size}-byte file: truncated")));
    }
    let json = prefix.get(8..data_start as usize).ok_or_else(|| bad(file, "header cut short"))?;
    let raw: BTreeMap<String, serde_json::Value> = serde_json::from_slice(json).map_err(|e| bad(file, &format!("header is not valid JSON: {e}")))?;
    let data_size = file_size - data_start;
    let mut tensors = BTreeMap::new();
    for (name, value) in raw {
        if name == "__metadata__" {
            continue;
        }
        let entry: RawEntry = serde_json::from_value(value).map_err(|e| bad(file, &format!("tensor `{name}`: malformed entry: {e}")))?;
        let dtype = match entry.dtype.as_str() {
            "F32" => Dtype::F32,
            "F16" => Dtype::F16,
            "BF16" => Dtype::BF16,
            "I64" => Dtype::I64,
            other => return Err(bad(file, &format!("tensor `{name}`: dtype {other} is not supported (F32, F16, BF16 and I64 are)"))),
        };
        let [begin, end] = entry.data_offsets;
        let elements: u64 = entry.shape.iter().map(|&d| d as u64).product();
        let expected = elements * dtype.size() as u64;
        if begin > end || end > data_size {
            return Err(bad(file, &format!("tensor `{name}`: byte range {begin}..{end} lies outside the {data_size} data bytes: truncated or corrupt")));
        }
        if end - begin != expected {
            return Err(bad(
                file,
                &format!("tensor `{name}`: shape {:?} as {:?} needs {expected} bytes but the header gives {}", entry.shape, dtype, end - begin),
            ));
        }
        tensors.insert(name, TensorInfo { dtype, shape: entry.shape, start: data_start + begin, end: data_start + end });
    }
    check_no_overlap(&tensors, file)?;
    Ok(Header { tensors, data_start })
}

fn check_no_overlap(tensors: &BTreeMap<String, TensorInfo>, file: &str) -> Result<(), EngineError> {
    let mut ranges: Vec<(&String, &TensorInfo)> = tensors.iter().filter(|(_, t)| t.end > t.start).collect();
    ranges.sort_by_key(|(_, t)| t.start);
    for pair in ranges.windows(2) {
        if pair[1].1.start < pair[0].1.end {
            return Err(bad(file, &format!("tensors `{}` and `{}` overlap: corrupt header", pair[0].0, pair[1].0)));
        }
    }
    Ok(())
}

/// Decodes little-endian tensor bytes to f32.
pub fn to_f32(bytes: &[u8], dtype: Dtype) -> Vec<f32> {
    match dtype {
        Dtype::F32 => bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        Dtype::F16 => bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        Dtype::BF16 => bytes.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        Dtype::I64 => bytes.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as f32).collect(),
    }
}

fn bad(file: &str, problem: &str) -> EngineError {
    EngineError::BadFile { file: file.to_string(), problem: problem.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn parse(bytes: &[u8]) -> Result<Header, EngineError> {
        parse_header(bytes, bytes.len() as u64, "t.safetensors")
    }

    #[test]
    fn reads_a_valid_header_and_decodes_each_dtype() {
        let mut data = 1.5f32.to_le_bytes().to_vec();
        data.extend(half::f16::from_f32(-2.0).to_le_bytes());
        data.extend(half::bf16::from_f32(3.0).to_le_bytes());
        let bytes = file(
            r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},
               "b":{"dtype":"F16","shape":[1],"data_offsets":[4,6]},"c":{"dtype":"BF16","shape":[],"data_offsets":[6,8]}}"#,
            &data,
        );
        let header = parse(&bytes).unwrap();
        let value = |name: &str| {
            let t = &header.tensors[name];
            to_f32(&bytes[t.start as usize..t.end as usize], t.dtype)
        };
        assert_eq!(value("a"), vec![1.5]);
        assert_eq!(value("b"), vec![-2.0]);
        assert_eq!(value("c"), vec![3.0]);
    }

    fn error(bytes: &[u8]) -> String {
        parse(bytes).unwrap_err().to_string()
    }

    #[test]
    fn rejects_each_kind_of_lie_naming_the_problem() {
        assert!(error(&[1, 2, 3]).contains("truncated"));
        let truncated = file(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, &[0; 4]);
        assert!(error(&truncated).contains("`a`") && error(&truncated).contains("outside"));
        let wrong_size = file(r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, &[0; 8]);
        assert!(error(&wrong_size).contains("needs 12 bytes"));
        let overlap = file(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, &[0; 8]);
        assert!(error(&overlap).contains("overlap"));
        let dtype = file(r#"{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}"#, &[0; 1]);
        assert!(error(&dtype).contains("I8"));
        let huge = u64::MAX.to_le_bytes();
        assert!(error(&huge).contains("not a safetensors file"));
        let not_json = file("{nope", &[]);
        assert!(error(&not_json).contains("JSON"));
        let short_header = {
            let mut b = file("{}", &[]);
            b[0] = 200;
            b
        };
        assert!(error(&short_header).contains("does not fit"));
    }
}
