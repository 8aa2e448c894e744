// SPDX-License-Identifier: Apache-2.0
//! `CompressionFormat` of S3 deliveries and a streaming compressor for staging files.
//!
//! * `GZIP`: one gzip member (RFC 1952).
//! * `ZIP`: an archive with one entry (deflated), written in streaming mode (data
//!   descriptors, zip64 sizes) so any `Write` works without seeking.
//! * `Snappy`: the Snappy *framing* format (`sNaPpY` stream identifier, CRC-32C per chunk),
//!   what `python-snappy`'s `stream_decompress` and `snzip` read.
//! * `HADOOP_SNAPPY`: Hadoop's `BlockCompressorStream` layout as written by
//!   `org.apache.hadoop.io.compress.SnappyCodec`: per block, the uncompressed length (u32
//!   big-endian), then one chunk: the compressed length (u32 big-endian) and raw Snappy bytes.
//!   Blocks hold at most [`HADOOP_BLOCK`] input bytes, Hadoop's default
//!   (`io.compression.codec.snappy.buffersize` 256 KiB minus its compression overhead), so
//!   Hadoop, Spark and Athena read the objects.
//!
//! Default extensions follow the table in
//! [S3 object name format](https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html):
//! Parquet `.parquet`, ORC `.orc`, GZIP `.gz`, ZIP `.zip`, Snappy `.snappy`,
//! Hadoop-Snappy `.hsnappy`, none when uncompressed.

use std::io::{self, Write};

use flate2::write::GzEncoder;
use zip::write::{SimpleFileOptions, StreamWriter};

/// Input bytes per Hadoop-Snappy block: 256 KiB minus Hadoop's overhead (`size / 6 + 32`).
pub const HADOOP_BLOCK: usize = 256 * 1024 - (256 * 1024 / 6 + 32);

/// `CompressionFormat` of an S3 destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compression {
    /// `UNCOMPRESSED` (the default).
    #[default]
    Uncompressed,
    /// `GZIP`.
    Gzip,
    /// `ZIP`.
    Zip,
    /// `Snappy` (framing format).
    Snappy,
    /// `HADOOP_SNAPPY` (Hadoop block format).
    HadoopSnappy,
}

impl Compression {
    /// Parses the model's enum value (case-sensitive, as AWS is).
    pub fn parse(value: &str) -> Option<Compression> {
        match value {
            "UNCOMPRESSED" => Some(Self::Uncompressed),
            "GZIP" => Some(Self::Gzip),
            "ZIP" => Some(Self::Zip),
            "Snappy" => Some(Self::Snappy),
            "HADOOP_SNAPPY" => Some(Self::HadoopSnappy),
            _ => None,
        }
    }

    /// The model's enum value.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Uncompressed => "UNCOMPRESSED",
            Self::Gzip => "GZIP",
            Self::Zip => "ZIP",
            Self::Snappy => "Snappy",
            Self::HadoopSnappy => "HADOOP_SNAPPY",
        }
    }
}

/// What delivery writes into objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// The records as they are.
    #[default]
    Raw,
    /// Record format conversion to Parquet.
    Parquet,
    /// Record format conversion to ORC.
    Orc,
}

/// The extension AWS appends when `FileExtension` is unset (see the module doc).
pub fn default_extension(c: Compression, output: OutputFormat) -> &'static str {
    match (output, c) {
        // Format conversion requires UNCOMPRESSED; the serializer compresses inside the file.
        (OutputFormat::Parquet, _) => ".parquet",
        (OutputFormat::Orc, _) => ".orc",
        (OutputFormat::Raw, Compression::Uncompressed) => "",
        (OutputFormat::Raw, Compression::Gzip) => ".gz",
        (OutputFormat::Raw, Compression::Zip) => ".zip",
        (OutputFormat::Raw, Compression::Snappy) => ".snappy",
        (OutputFormat::Raw, Compression::HadoopSnappy) => ".hsnappy",
    }
}

enum Inner<W: Write> {
    Plain(W),
    Gzip(Box<GzEncoder<W>>),
    Zip(Box<zip::ZipWriter<StreamWriter<W>>>),
    Snappy(Box<snap::write::FrameEncoder<W>>),
    Hadoop(Box<HadoopSnappyWriter<W>>),
}

/// Compresses everything written to it into `W`; [`Compressor::finish`] completes the
/// format (trailers, central directory) and returns `W`. Memory is bounded by the format's
/// block size (at most a few hundred KiB), whatever the input size.
pub struct Compressor<W: Write> {
    inner: Inner<W>,
}

fn zip_err(e: zip::result::ZipError) -> io::Error {
    io::Error::other(e)
}

impl<W: Write> Compressor<W> {
    /// Starts a compressed stream; `entry_name` names the ZIP entry (ignored otherwise).
    pub fn new(c: Compression, writer: W, entry_name: &str) -> io::Result<Compressor<W>> {
        let inner = match c {
            Compression::Uncompressed => Inner::Plain(writer),
            Compression::Gzip => Inner::Gzip(Box::new(GzEncoder::new(
                writer,
                flate2::Compression::default(),
            ))),
            Compression::Zip => {
                let mut zip = zip::ZipWriter::new_stream(writer);
                let options = SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .large_file(true);
                zip.start_file(entry_name, options).map_err(zip_err)?;
                Inner::Zip(Box::new(zip))
            }
            Compression::Snappy => Inner::Snappy(Box::new(snap::write::FrameEncoder::new(writer))),
            Compression::HadoopSnappy => Inner::Hadoop(Box::new(HadoopSnappyWriter::new(writer))),
        };
        Ok(Compressor { inner })
    }

    /// Completes the stream and returns the writer (not flushed to disk: the caller syncs).
    pub fn finish(self) -> io::Result<W> {
        match self.inner {
            Inner::Plain(mut w) => {
                w.flush()?;
                Ok(w)
            }
            Inner::Gzip(g) => (*g).finish(),
            Inner::Zip(z) => Ok(z.finish().map_err(zip_err)?.into_inner()),
            Inner::Snappy(s) => s.into_inner().map_err(|e| e.into_error()),
            Inner::Hadoop(h) => (*h).finish(),
        }
    }
}

impl<W: Write> Write for Compressor<W> {
    // Implementing `write` means delegating to the inner `write`; callers use `write_all`.
    #[allow(clippy::disallowed_methods)]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(w) => w.write(buf),
            Inner::Gzip(g) => g.write(buf),
            Inner::Zip(z) => z.write(buf),
            Inner::Snappy(s) => s.write(buf),
            Inner::Hadoop(h) => h.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Plain(w) => w.flush(),
            Inner::Gzip(g) => g.flush(),
            Inner::Zip(z) => z.flush(),
            Inner::Snappy(s) => s.flush(),
            Inner::Hadoop(h) => h.flush(),
        }
    }
}

/// Hadoop's block-compressed Snappy stream (see the module doc).
struct HadoopSnappyWriter<W: Write> {
    inner: W,
    block: Vec<u8>,
    encoder: snap::raw::Encoder,
}

impl<W: Write> HadoopSnappyWriter<W> {
    fn new(inner: W) -> Self {
        HadoopSnappyWriter {
            inner,
            block: Vec::with_capacity(HADOOP_BLOCK),
            encoder: snap::raw::Encoder::new(),
        }
    }

    fn emit_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let compressed = self
            .encoder
            .compress_vec(&self.block)
            .map_err(io::Error::other)?;
        // Both lengths are below HADOOP_BLOCK's bound on snappy output, far under u32::MAX.
        let raw_len = u32::try_from(self.block.len()).map_err(io::Error::other)?;
        let comp_len = u32::try_from(compressed.len()).map_err(io::Error::other)?;
        self.inner.write_all(&raw_len.to_be_bytes())?;
        self.inner.write_all(&comp_len.to_be_bytes())?;
        self.inner.write_all(&compressed)?;
        self.block.clear();
        Ok(())
    }

    fn finish(mut self) -> io::Result<W> {
        self.emit_block()?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for HadoopSnappyWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = HADOOP_BLOCK - self.block.len();
        let take = room.min(buf.len());
        self.block.extend_from_slice(&buf[..take]);
        if self.block.len() == HADOOP_BLOCK {
            self.emit_block()?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        // A flush does not end a block: Hadoop's reader accepts either, and fewer blocks
        // compress better.
        self.inner.flush()
    }
}

/// Decodes a Hadoop-Snappy stream (for tests and for reading back backups).
pub fn decode_hadoop_snappy(mut input: &[u8]) -> io::Result<Vec<u8>> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, m.to_owned());
    let mut out = Vec::new();
    let mut decoder = snap::raw::Decoder::new();
    let take_u32 = |input: &mut &[u8]| -> io::Result<usize> {
        let (head, rest) = input
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("truncated length"))?;
        *input = rest;
        Ok(u32::from_be_bytes(*head) as usize)
    };
    while !input.is_empty() {
        let raw_len = take_u32(&mut input)?;
        let start = out.len();
        while out.len() - start < raw_len {
            let comp_len = take_u32(&mut input)?;
            if comp_len > input.len() {
                return Err(bad("truncated chunk"));
            }
            let (chunk, rest) = input.split_at(comp_len);
            input = rest;
            let decoded = decoder.decompress_vec(chunk).map_err(io::Error::other)?;
            if decoded.is_empty() {
                return Err(bad("empty chunk"));
            }
            out.extend_from_slice(&decoded);
        }
        if out.len() - start != raw_len {
            return Err(bad("block length mismatch"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use proptest::prelude::*;

    use super::*;

    const ALL: [Compression; 5] = [
        Compression::Uncompressed,
        Compression::Gzip,
        Compression::Zip,
        Compression::Snappy,
        Compression::HadoopSnappy,
    ];

    fn compress(c: Compression, chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut comp = Compressor::new(c, Vec::new(), "data").unwrap();
        for chunk in chunks {
            comp.write_all(chunk).unwrap();
        }
        comp.finish().unwrap()
    }

    fn decompress(c: Compression, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match c {
            Compression::Uncompressed => out.extend_from_slice(data),
            Compression::Gzip => {
                flate2::read::GzDecoder::new(data)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Compression::Zip => {
                let mut archive = zip::ZipArchive::new(Cursor::new(data)).unwrap();
                assert_eq!(archive.len(), 1);
                let mut entry = archive.by_index(0).unwrap();
                assert_eq!(entry.name().unwrap(), "data");
                entry.read_to_end(&mut out).unwrap();
            }
            Compression::Snappy => {
                snap::read::FrameDecoder::new(data)
                    .read_to_end(&mut out)
                    .unwrap();
            }
            Compression::HadoopSnappy => out = decode_hadoop_snappy(data).unwrap(),
        }
        out
    }

    #[test]
    fn enum_values_round_trip_and_unknown_values_are_rejected() {
        for c in ALL {
            assert_eq!(Compression::parse(c.as_str()), Some(c));
        }
        assert_eq!(Compression::parse("SNAPPY"), None);
        assert_eq!(Compression::parse("gzip"), None);
    }

    #[test]
    fn default_extensions_follow_the_aws_table() {
        let ext = |c| default_extension(c, OutputFormat::Raw);
        assert_eq!(ext(Compression::Uncompressed), "");
        assert_eq!(ext(Compression::Gzip), ".gz");
        assert_eq!(ext(Compression::Zip), ".zip");
        assert_eq!(ext(Compression::Snappy), ".snappy");
        assert_eq!(ext(Compression::HadoopSnappy), ".hsnappy");
        assert_eq!(
            default_extension(Compression::Uncompressed, OutputFormat::Parquet),
            ".parquet"
        );
        assert_eq!(
            default_extension(Compression::Uncompressed, OutputFormat::Orc),
            ".orc"
        );
    }

    #[test]
    fn a_large_input_round_trips_through_every_format() {
        let big: Vec<u8> = (0..3 * HADOOP_BLOCK + 17)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        for c in ALL {
            let chunks = vec![big[..1000].to_vec(), big[1000..].to_vec()];
            assert_eq!(decompress(c, &compress(c, &chunks)), big, "{c:?}");
        }
    }

    #[test]
    fn hadoop_snappy_writes_length_prefixed_blocks() {
        let data = vec![b'a'; HADOOP_BLOCK + 1];
        let out = compress(Compression::HadoopSnappy, &[data]);
        assert_eq!(&out[..4], &(HADOOP_BLOCK as u32).to_be_bytes());
        assert!(decode_hadoop_snappy(&out[..out.len() - 1]).is_err());
    }

    #[test]
    fn gzip_output_is_readable_by_python_if_installed() {
        let Ok(status) = std::process::Command::new("python3")
            .arg("--version")
            .output()
        else {
            eprintln!("python3 is not installed; skipping");
            return;
        };
        assert!(status.status.success());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.gz");
        std::fs::write(&path, compress(Compression::Gzip, &[b"hello\n".to_vec()])).unwrap();
        let zpath = dir.path().join("x.zip");
        std::fs::write(&zpath, compress(Compression::Zip, &[b"world\n".to_vec()])).unwrap();
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(
                "import gzip,zipfile,sys; a=gzip.open(sys.argv[1]).read(); \
                 b=zipfile.ZipFile(sys.argv[2]).read('data'); print((a+b).decode(), end='')",
            )
            .arg(&path)
            .arg(&zpath)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\nworld\n");
    }

    proptest! {
        #[test]
        fn every_format_round_trips_any_chunking(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..2000), 0..8)) {
            let all: Vec<u8> = chunks.concat();
            for c in ALL {
                prop_assert_eq!(decompress(c, &compress(c, &chunks)), all.clone());
            }
        }

        #[test]
        fn decoding_garbage_as_hadoop_snappy_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_hadoop_snappy(&data);
        }
    }
}
