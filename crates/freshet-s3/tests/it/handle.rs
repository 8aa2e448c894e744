// SPDX-License-Identifier: Apache-2.0
//! The in-process handle: puts from files and bytes, errors, restart recovery.

use std::sync::Arc;

use bytes::Bytes;
use freshet_meta::Meta;
use freshet_s3::{S3, S3Error, S3Options};

fn open(dir: &std::path::Path) -> S3 {
    let meta = Arc::new(Meta::open_local(&dir.join("meta.redb")).expect("meta"));
    S3::open(&dir.join("s3"), meta, S3Options::default()).expect("open")
}

#[tokio::test]
async fn bytes_put_in_process_read_back_with_an_md5_etag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = open(dir.path());
    s3.create_bucket("bkt").await.expect("bucket");
    assert!(s3.bucket_exists("bkt").await);
    let info = s3
        .put_object_bytes(
            "bkt",
            "a/b.txt",
            Bytes::from_static(b"hello"),
            Some("text/plain".into()),
        )
        .await
        .expect("put");
    assert_eq!(info.size, 5);
    assert_eq!(info.etag, "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(
        s3.get_object_bytes("bkt", "a/b.txt").await.expect("get"),
        "hello"
    );
    assert_eq!(s3.list_keys("bkt", "a/").await.expect("list"), ["a/b.txt"]);
}

#[tokio::test]
async fn staged_files_are_adopted_by_rename_and_consumed_on_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = open(dir.path());
    s3.create_bucket("bkt").await.expect("bucket");
    let staged = s3.staging_dir().join("x.tmp");
    std::fs::write(&staged, b"file content").expect("write");
    let info = s3
        .put_object_file("bkt", "k", staged.clone(), 12, None)
        .await
        .expect("adopt");
    assert_eq!(info.size, 12);
    assert!(!staged.exists(), "the staged file was moved");
    assert_eq!(
        s3.get_object_bytes("bkt", "k").await.expect("get"),
        "file content"
    );

    let staged = s3.staging_dir().join("y.tmp");
    std::fs::write(&staged, b"lost").expect("write");
    let err = s3
        .put_object_file("nope", "k", staged.clone(), 4, None)
        .await
        .expect_err("no bucket");
    assert!(
        matches!(err, S3Error::NoSuchBucket { ref bucket } if bucket == "nope"),
        "{err}"
    );
    assert!(!staged.exists(), "the file is deleted on error");
}

#[tokio::test]
async fn missing_buckets_and_keys_are_told_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s3 = open(dir.path());
    assert!(matches!(
        s3.get_object_bytes("none", "k").await,
        Err(S3Error::NoSuchBucket { .. })
    ));
    s3.create_bucket("bkt").await.expect("bucket");
    assert!(matches!(
        s3.get_object_bytes("bkt", "k").await,
        Err(S3Error::NoSuchKey { .. })
    ));
    assert!(matches!(
        s3.create_bucket("Bad_Name").await,
        Err(S3Error::InvalidBucketName { .. })
    ));
}

#[tokio::test]
async fn objects_survive_a_reopen_and_orphan_files_do_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s3 = open(dir.path());
        s3.create_bucket("bkt").await.expect("bucket");
        s3.put_object_bytes("bkt", "k", Bytes::from_static(b"v1"), None)
            .await
            .expect("put");
        s3.put_object_bytes("bkt", "k", Bytes::from_static(b"v2"), None)
            .await
            .expect("overwrite");
        std::fs::write(s3.staging_dir().join("left"), b"x").expect("staging");
    }
    // A content file no record names: a write the crash interrupted.
    let orphan = dir
        .path()
        .join("s3/objects/ab/ab000000000000000000000000000000");
    std::fs::write(&orphan, b"half").expect("orphan");
    let s3 = open(dir.path());
    assert_eq!(s3.get_object_bytes("bkt", "k").await.expect("get"), "v2");
    assert!(!orphan.exists());
    assert_eq!(
        std::fs::read_dir(s3.staging_dir())
            .expect("staging")
            .count(),
        0
    );
    let files: usize = std::fs::read_dir(dir.path().join("s3/objects"))
        .expect("objects")
        .map(|d| {
            std::fs::read_dir(d.expect("fan").path())
                .expect("fan")
                .count()
        })
        .sum();
    assert_eq!(files, 1, "the overwritten version's file is gone");
}
