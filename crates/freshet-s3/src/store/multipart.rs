// SPDX-License-Identifier: Apache-2.0
//! Multipart uploads: parts are content files with a [`PartRecord`] each; completion commits
//! one object whose record names the part files in order (no copy), with S3's ETag
//! `hex(md5(concat(part md5s)))-<parts>`.

use super::group::Change;
use super::records::{
    Checksums, FileRef, OBJECTS, ObjectMeta, ObjectRecord, PARTS, PartRecord, UPLOADS,
    UploadRecord, object_key, upload_key,
};
use super::{Store, StoreError, hex, now_ms};
use freshet_meta::TxnExt;
use s3s::crypto::{Checksum as _, Md5};

/// S3's minimum size of every part but the last.
pub(crate) const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// The ETag of a multipart object: MD5 over the parts' binary MD5s, then `-<count>`.
pub(crate) fn multipart_etag(part_md5s: &[[u8; 16]]) -> String {
    let mut md5 = Md5::new();
    for m in part_md5s {
        md5.update(m);
    }
    format!("{}-{}", hex(&md5.finalize()), part_md5s.len())
}

/// Parses a hex MD5 (a part ETag without quotes).
pub(crate) fn parse_md5(hex_md5: &str) -> Option<[u8; 16]> {
    if hex_md5.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex_md5.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

impl Store {
    /// Starts an upload; its id.
    pub async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        meta: ObjectMeta,
        checksum_algorithm: Option<String>,
    ) -> Result<String, StoreError> {
        let id = super::files::new_id();
        let (b, rec) = (
            bucket.to_owned(),
            UploadRecord {
                key: key.to_owned(),
                initiated_ms: now_ms(),
                meta,
                checksum_algorithm,
            },
        );
        let uid = id.clone();
        self.txn(move |t| {
            if t.get(super::records::BUCKETS, &b)?.is_none() {
                return Err(StoreError::NoSuchBucket { bucket: b });
            }
            t.put_json(UPLOADS, &upload_key(&b, &uid), &rec)?;
            Ok(())
        })
        .await?;
        Ok(id)
    }

    /// The upload's record, if it is in progress for `key`.
    pub fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<UploadRecord, StoreError> {
        self.bucket(bucket)?;
        match self
            .meta
            .get_json::<UploadRecord>(UPLOADS, &upload_key(bucket, upload_id))?
        {
            Some(u) if u.key == key => Ok(u),
            _ => Err(StoreError::NoSuchUpload {
                upload_id: upload_id.to_owned(),
            }),
        }
    }

    /// Uploads in progress in `bucket`: (upload id, record), by id.
    pub fn uploads(&self, bucket: &str) -> Result<Vec<(String, UploadRecord)>, StoreError> {
        let prefix = format!("{bucket}/");
        Ok(self
            .meta
            .scan_json::<UploadRecord>(UPLOADS, &prefix)?
            .into_iter()
            .map(|(k, u)| (k[prefix.len()..].to_owned(), u))
            .collect())
    }

    /// Commits a written part (group-committed), replacing an earlier upload of the same
    /// number.
    pub async fn commit_part(
        &self,
        bucket: &str,
        upload_id: &str,
        part: i32,
        record: PartRecord,
    ) -> Result<(), StoreError> {
        let change = Change::Part {
            bucket: bucket.to_owned(),
            upload_id: upload_id.to_owned(),
            part,
            record,
        };
        self.commit_change(change).await.map(|_| ())
    }

    /// The parts uploaded so far, by number.
    pub fn parts(&self, upload_id: &str) -> Result<Vec<(i32, PartRecord)>, StoreError> {
        let prefix = format!("{upload_id}/");
        Ok(self
            .meta
            .scan_json::<PartRecord>(PARTS, &prefix)?
            .into_iter()
            .filter_map(|(k, p)| Some((k[prefix.len()..].parse().ok()?, p)))
            .collect())
    }

    /// Completes an upload from `chosen` (part number, ETag without quotes), in one commit:
    /// the object record names the chosen part files; the upload and its part records go.
    /// Parts not chosen are removed.
    pub async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        chosen: Vec<(i32, String)>,
    ) -> Result<ObjectRecord, StoreError> {
        let upload = self.upload(bucket, key, upload_id)?;
        let (b, k, uid) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        let (record, drop_files) = self
            .txn(move |t| {
                let uk = upload_key(&b, &uid);
                if t.get(UPLOADS, &uk)?.is_none() {
                    return Err(StoreError::NoSuchUpload { upload_id: uid });
                }
                let parts = t.scan(PARTS, &format!("{uid}/"))?;
                let mut by_number = std::collections::BTreeMap::new();
                for (pk, v) in &parts {
                    let p: PartRecord = serde_json::from_slice(v).map_err(|e| {
                        freshet_meta::MetaError::Corrupt {
                            table: PARTS.to_string(),
                            key: pk.clone(),
                            reason: e.to_string(),
                        }
                    })?;
                    if let Some(n) = pk.rsplit('/').next().and_then(|n| n.parse::<i32>().ok()) {
                        by_number.insert(n, p);
                    }
                }
                let record = assemble(&chosen, &mut by_number, upload.meta)?;
                let unused: Vec<FileRef> = by_number.into_values().map(|p| p.file).collect();
                let ok = object_key(&b, &k);
                let old: Option<ObjectRecord> = t.get_json(OBJECTS, &ok)?;
                t.put_json(OBJECTS, &ok, &record)?;
                for (pk, _) in parts {
                    t.delete(PARTS, &pk)?;
                }
                t.delete(UPLOADS, &uk)?;
                let mut drop_files = unused;
                if let Some(old) = old {
                    drop_files.extend(old.files);
                }
                Ok((record, drop_files))
            })
            .await?;
        self.files.remove(&drop_files).await;
        Ok(record)
    }

    /// Aborts an upload: its records and part files go.
    pub async fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StoreError> {
        self.upload(bucket, key, upload_id)?;
        let (b, uid) = (bucket.to_owned(), upload_id.to_owned());
        let files = self
            .txn(move |t| {
                let uk = upload_key(&b, &uid);
                if t.get(UPLOADS, &uk)?.is_none() {
                    return Err(StoreError::NoSuchUpload { upload_id: uid });
                }
                let mut files = Vec::new();
                for (pk, v) in t.scan(PARTS, &format!("{uid}/"))? {
                    if let Ok(p) = serde_json::from_slice::<PartRecord>(&v) {
                        files.push(p.file);
                    }
                    t.delete(PARTS, &pk)?;
                }
                t.delete(UPLOADS, &uk)?;
                Ok(files)
            })
            .await?;
        self.files.remove(&files).await;
        Ok(())
    }
}

/// The object record of a completion: checks order, presence, ETags and sizes as S3 does,
/// taking the chosen parts out of `available`.
pub(crate) fn assemble(
    chosen: &[(i32, String)],
    available: &mut std::collections::BTreeMap<i32, PartRecord>,
    meta: ObjectMeta,
) -> Result<ObjectRecord, StoreError> {
    if chosen.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(StoreError::InvalidPartOrder);
    }
    let mut picked = Vec::with_capacity(chosen.len());
    for (n, etag) in chosen {
        match available.get(n) {
            Some(p) if p.md5 == etag.trim_matches('"') => {}
            _ => return Err(StoreError::InvalidPart { part: *n }),
        }
        if let Some(p) = available.remove(n) {
            picked.push((*n, p));
        }
    }
    if picked.is_empty() {
        return Err(StoreError::InvalidPart { part: 0 });
    }
    let last = picked.len() - 1;
    for (i, (n, p)) in picked.iter().enumerate() {
        if i != last && p.file.len < MIN_PART_SIZE {
            return Err(StoreError::EntityTooSmall {
                part: *n,
                size: p.file.len,
            });
        }
    }
    let md5s: Vec<[u8; 16]> = picked
        .iter()
        .map(|(_, p)| parse_md5(&p.md5).unwrap_or_default())
        .collect();
    Ok(ObjectRecord {
        size: picked.iter().map(|(_, p)| p.file.len).sum(),
        etag: multipart_etag(&md5s),
        modified_ms: now_ms(),
        meta,
        checksums: Checksums::default(),
        files: picked.into_iter().map(|(_, p)| p.file).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn part(len: u64, md5: &str) -> PartRecord {
        PartRecord {
            file: FileRef {
                id: format!("f{len}"),
                len,
            },
            md5: md5.to_owned(),
            modified_ms: 0,
            checksums: Checksums::default(),
        }
    }

    #[test]
    fn the_multipart_etag_is_the_md5_of_the_part_md5s_and_the_count() {
        // Two parts "a" and "b": md5(md5("a") || md5("b")), as S3 computes it.
        let a = Md5::checksum(b"a");
        let b = Md5::checksum(b"b");
        let mut both = Vec::new();
        both.extend_from_slice(&a);
        both.extend_from_slice(&b);
        let want = format!("{}-2", hex(&Md5::checksum(&both)));
        assert_eq!(multipart_etag(&[a, b]), want);
    }

    #[test]
    fn completion_checks_order_presence_etags_and_sizes() {
        let m = ObjectMeta::default();
        let big = MIN_PART_SIZE;
        let md5 = "0".repeat(32);
        let avail = || {
            let mut a = std::collections::BTreeMap::new();
            a.insert(1, part(big, &md5));
            a.insert(2, part(10, &md5));
            a.insert(3, part(big, &md5));
            a
        };
        assert!(matches!(
            assemble(
                &[(2, md5.clone()), (1, md5.clone())],
                &mut avail(),
                m.clone()
            ),
            Err(StoreError::InvalidPartOrder)
        ));
        assert!(matches!(
            assemble(&[(4, md5.clone())], &mut avail(), m.clone()),
            Err(StoreError::InvalidPart { part: 4 })
        ));
        assert!(matches!(
            assemble(&[(1, "1".repeat(32))], &mut avail(), m.clone()),
            Err(StoreError::InvalidPart { part: 1 })
        ));
        assert!(matches!(
            assemble(
                &[(2, md5.clone()), (3, md5.clone())],
                &mut avail(),
                m.clone()
            ),
            Err(StoreError::EntityTooSmall { part: 2, size: 10 })
        ));
        let mut a = avail();
        let o = assemble(&[(1, format!("\"{md5}\"")), (2, md5.clone())], &mut a, m)
            .expect("valid completion");
        assert_eq!(o.size, big + 10);
        assert_eq!(o.files.len(), 2);
        assert!(o.etag.ends_with("-2"));
        assert_eq!(a.keys().copied().collect::<Vec<_>>(), [3]);
    }

    proptest! {
        #[test]
        fn md5_hex_round_trips(bytes in proptest::array::uniform16(any::<u8>())) {
            prop_assert_eq!(parse_md5(&hex(&bytes)), Some(bytes));
        }

        #[test]
        fn md5_parsing_never_panics(s in "\\PC{0,40}") {
            let _ = parse_md5(&s);
        }
    }
}
