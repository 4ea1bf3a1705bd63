//! Reading and writing NumPy `.npy` files (v1–v3, little-endian, C order): the CLI's
//! `--init-latents`/`--save-latents`/`--save-video` and the golden fixtures use them.

use crate::EngineError;

/// An array read from a `.npy` file, as f32 (or i64 for integer arrays, also given as f32).
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

const MAGIC: &[u8] = b"\x93NUMPY";

pub fn read_npy(bytes: &[u8], file: &str) -> Result<NpyArray, EngineError> {
    let bad = |problem: &str| EngineError::BadFile { file: file.into(), problem: problem.into() };
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not a .npy file (no \\x93NUMPY magic)"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(bad(&format!("unsupported .npy version {v}"))),
    };
    let header = bytes.get(start..start + header_len).ok_or_else(|| bad("header cut short"))?;
    let header = std::str::from_utf8(header).map_err(|_| bad("header is not text"))?;
    let descr = field(header, "descr").ok_or_else(|| bad("header has no 'descr'"))?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    if field(header, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(bad("Fortran-ordered arrays are not supported; save with np.ascontiguousarray"));
    }
    let shape_text = header.split("'shape':").nth(1).and_then(|s| s.split(')').next()).ok_or_else(|| bad("header has no 'shape'"))?;
    let shape: Vec<usize> = shape_text
        .trim_start_matches([' ', '('])
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| bad(&format!("bad shape entry {s:?}"))))
        .collect::<Result<_, _>>()?;
    let count: usize = shape.iter().product();
    let body = &bytes[start + header_len..];
    let (size, decode): (usize, fn(&[u8]) -> f32) = match descr {
        "<f4" => (4, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        "<f8" => (8, |b| f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32),
        "<i8" => (8, |b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as f32),
        "<i4" => (4, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32),
        other => return Err(bad(&format!("dtype {other} is not supported (float32, float64, int32, int64 are)"))),
    };
    if body.len() != count * size {
        return Err(bad(&format!("shape {shape:?} needs {} data bytes, the file has {}", count * size, body.len())));
    }
    Ok(NpyArray { shape, data: body.chunks_exact(size).map(decode).collect() })
}

/// A `.npy` file read from disk (native programs), with its path for error messages.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_npy_file(path: &std::path::Path) -> Result<(NpyArray, String), EngineError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| EngineError::Io { path: name.clone(), reason: e.to_string() })?;
    Ok((read_npy(&bytes, &name)?, name))
}

/// Encodes a float32 C-order array.
pub fn write_npy(shape: &[usize], data: &[f32]) -> Vec<u8> {
    let shape_text = match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Pad so the data starts on a 64-byte boundary, newline-terminated, as NumPy does.
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for value in data {
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}

fn field<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    let rest = header.split(&format!("'{name}':")).nth(1)?;
    Some(rest.trim_start().split(',').next()?.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let bytes = write_npy(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
        assert_eq!((MAGIC.len() + 4 + u16::from_le_bytes([bytes[8], bytes[9]]) as usize) % 64, 0);
        let array = read_npy(&bytes, "x.npy").unwrap();
        assert_eq!(array.shape, vec![2, 3]);
        assert_eq!(array.data[5], 6.5);
        assert!(read_npy(b"hello world", "x.npy").unwrap_err().to_string().contains("magic"));
        let short = &bytes[..bytes.len() - 4];
        assert!(read_npy(short, "x.npy").unwrap_err().to_string().contains("needs 24 data bytes"));
    }
}
