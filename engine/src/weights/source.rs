//! Byte sources for safetensors files: something that can read a byte range. Native code reads
//! files or memory; the page's worker reads its browser storage synchronously, one tensor at a
//! time, so no whole model is ever held in memory.

use std::io::{Read, Seek, SeekFrom};

use crate::EngineError;

pub trait ByteSource {
    /// A name for messages: the file path or URL.
    fn name(&self) -> &str;
    fn size(&self) -> u64;
    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, EngineError>;
}

/// A whole file already in memory (tests, small models).
pub struct MemorySource {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl ByteSource for MemorySource {
    fn name(&self) -> &str {
        &self.name
    }
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, EngineError> {
        self.bytes.get(start as usize..end as usize).map(<[u8]>::to_vec).ok_or_else(|| EngineError::BadFile {
            file: self.name.clone(),
            problem: format!("bytes {start}..{end} lie past its end ({} bytes)", self.bytes.len()),
        })
    }
}

/// A file on disk, read range by range.
pub struct FileSource {
    name: String,
    file: std::fs::File,
    size: u64,
}

impl FileSource {
    pub fn open(path: &std::path::Path) -> Result<Self, EngineError> {
        let io = |e: std::io::Error| EngineError::Io { path: path.display().to_string(), reason: e.to_string() };
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        Ok(Self { name: path.display().to_string(), file, size })
    }
}

impl ByteSource for FileSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn size(&self) -> u64 {
        self.size
    }
    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, EngineError> {
        let io = |e: std::io::Error| EngineError::Io { path: self.name.clone(), reason: e.to_string() };
        let mut buffer = vec![0u8; (end - start) as usize];
        self.file.seek(SeekFrom::Start(start)).map_err(io)?;
        self.file.read_exact(&mut buffer).map_err(io)?;
        Ok(buffer)
    }
}
