// SPDX-License-Identifier: Apache-2.0
//! The control-plane operations that change streams: create, update the destination, tags,
//! encryption. Requests arrive here after the model's constraints were checked; this module
//! makes AWS's semantic checks (exactly one destination, source rules, version ids).

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::firehose::Firehose;
use crate::model::{Destination, ExtendedS3, HttpEndpoint, S3Destination};
use crate::store::{Encryption, KinesisSource, SourceKind, Status, StreamRecord};
use crate::validate;

/// The destination members of a CreateDeliveryStream or UpdateDestination request.
#[derive(Debug, Default, Clone)]
pub struct DestinationInput {
    /// `S3DestinationConfiguration` / `S3DestinationUpdate` (deprecated).
    pub s3: Option<S3Destination>,
    /// `ExtendedS3DestinationConfiguration` / `...Update`.
    pub extended_s3: Option<ExtendedS3>,
    /// `HttpEndpointDestinationConfiguration` / `...Update`.
    pub http_endpoint: Option<HttpEndpoint>,
    /// The model names of other destination members given (Redshift, Splunk, ...).
    pub others: Vec<&'static str>,
}

impl DestinationInput {
    fn count(&self) -> usize {
        usize::from(self.s3.is_some())
            + usize::from(self.extended_s3.is_some())
            + usize::from(self.http_endpoint.is_some())
            + self.others.len()
    }

    fn unsupported(&self) -> Option<Error> {
        self.others.first().map(|name| {
            Error::InvalidArgument(format!(
                "Freshet does not deliver to {name} destinations; use ExtendedS3 or \
                 HttpEndpoint."
            ))
        })
    }
}

/// A CreateDeliveryStream request.
#[derive(Debug, Default, Clone)]
pub struct CreateRequest {
    /// `DeliveryStreamName`.
    pub name: String,
    /// `DeliveryStreamType` (default DirectPut).
    pub stream_type: Option<String>,
    /// `DirectPutSourceConfiguration.ThroughputHintInMBs`.
    pub direct_put: Option<i64>,
    /// `KinesisStreamSourceConfiguration` (stream ARN, role ARN).
    pub kinesis: Option<(String, String)>,
    /// `DeliveryStreamEncryptionConfigurationInput` (key type, key ARN).
    pub encryption: Option<(String, Option<String>)>,
    /// Whether MSK or database source configuration members were given.
    pub other_source: Option<&'static str>,
    /// The destination.
    pub destination: DestinationInput,
    /// `Tags`.
    pub tags: Vec<(String, String)>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

impl Firehose {
    /// CreateDeliveryStream: returns the new stream's ARN.
    pub async fn create(&self, req: CreateRequest) -> Result<String> {
        let source = match req.stream_type.as_deref().unwrap_or("DirectPut") {
            "DirectPut" => SourceKind::DirectPut,
            "KinesisStreamAsSource" => SourceKind::KinesisStreamAsSource,
            other => {
                return Err(invalid(format!(
                    "Freshet does not read {other} sources; use DirectPut or \
                     KinesisStreamAsSource."
                )));
            }
        };
        if let Some(member) = req.other_source {
            return Err(invalid(format!(
                "{member} is only allowed for its own DeliveryStreamType."
            )));
        }
        let kinesis = match (source, &req.kinesis) {
            (SourceKind::DirectPut, Some(_)) => {
                return Err(invalid(
                    "KinesisSourceStreamConfig is only allowed for KinesisStreamAsSource type.",
                ));
            }
            (SourceKind::KinesisStreamAsSource, None) => {
                return Err(invalid(
                    "KinesisSourceStreamConfig is required for KinesisStreamAsSource type.",
                ));
            }
            (SourceKind::KinesisStreamAsSource, Some((arn, role))) => {
                self.check_source_stream(arn)?;
                Some(KinesisSource {
                    stream_arn: arn.clone(),
                    role_arn: role.clone(),
                    start_ms: self.now_ms(),
                })
            }
            (SourceKind::DirectPut, None) => None,
        };
        if source == SourceKind::KinesisStreamAsSource && req.direct_put.is_some() {
            return Err(invalid(
                "DirectPutSourceConfiguration is only allowed for DirectPut type.",
            ));
        }
        if source == SourceKind::KinesisStreamAsSource && req.encryption.is_some() {
            return Err(invalid(
                "Server-side encryption is not supported for KinesisStreamAsSource type: the \
                 source stream's encryption applies.",
            ));
        }
        let d = &req.destination;
        if let Some(e) = d.unsupported() {
            return Err(e);
        }
        let destination = match d.count() {
            0 => return Err(invalid("A destination configuration must be specified.")),
            1 => {
                if let Some(e) = &d.extended_s3 {
                    validate::extended_s3(e)?;
                    Destination::ExtendedS3(e.clone())
                } else if let Some(s) = &d.s3 {
                    validate::s3(s)?;
                    Destination::ExtendedS3(s.to_extended())
                } else if let Some(h) = &d.http_endpoint {
                    validate::http_endpoint(h)?;
                    Destination::HttpEndpoint(h.clone())
                } else {
                    return Err(invalid("A destination configuration must be specified."));
                }
            }
            _ => {
                return Err(invalid(
                    "Only one destination configuration is allowed per delivery stream.",
                ));
            }
        };
        let now = self.now_ms();
        let encryption = match &req.encryption {
            Some((key_type, key_arn)) => {
                check_key(key_type, key_arn.as_deref())?;
                Encryption {
                    key_type: Some(key_type.clone()),
                    key_arn: key_arn.clone(),
                    status: "ENABLED".to_owned(),
                }
            }
            None => Encryption {
                key_type: None,
                key_arn: None,
                status: "DISABLED".to_owned(),
            },
        };
        let arn = self.arn_of(&req.name);
        let rec = StreamRecord {
            name: req.name.clone(),
            id: uuid::Uuid::new_v4().simple().to_string(),
            arn: arn.clone(),
            source,
            throughput_hint: req.direct_put,
            kinesis,
            status: Status::Creating,
            created_ms: now,
            updated_ms: now,
            version: 1,
            destination_id: "destinationId-000000000001".to_owned(),
            destination,
            encryption,
            encryption_calls: Vec::new(),
            tags: req.tags.into_iter().collect::<BTreeMap<_, _>>(),
        };
        self.insert(rec).await?;
        Ok(arn)
    }

    /// UpdateDestination: merges (same type) or replaces (other type) the destination if
    /// `current_version` is the stream's version, and bumps the version.
    pub async fn update_destination(
        &self,
        name: &str,
        current_version: &str,
        destination_id: &str,
        upd: DestinationInput,
    ) -> Result<()> {
        if let Some(e) = upd.unsupported() {
            return Err(e);
        }
        if upd.count() > 1 {
            return Err(invalid(
                "Only one destination update is allowed per request.",
            ));
        }
        let now = self.now_ms();
        let current_version = current_version.to_owned();
        let destination_id = destination_id.to_owned();
        self.modify(name, move |r| {
            if r.status != Status::Active {
                return Err(Error::InUse(format!(
                    "Firehose {} is not in the ACTIVE state.",
                    r.name
                )));
            }
            if current_version.parse::<u64>().ok() != Some(r.version) {
                return Err(Error::ConcurrentModification(format!(
                    "Cannot update firehose: {} since the current version id: {} and \
                     specified version id: {} do not match",
                    r.name, r.version, current_version
                )));
            }
            if destination_id != r.destination_id {
                return Err(invalid(format!(
                    "Destination Id {destination_id} not found."
                )));
            }
            let next = merged(&r.destination, upd)?;
            Firehose::set_destination(r, next, now);
            Ok(())
        })
        .await
    }

    /// TagDeliveryStream: adds or replaces tags, at most 50 in all.
    pub async fn tag(&self, name: &str, tags: Vec<(String, String)>) -> Result<()> {
        self.modify(name, move |r| {
            let mut next = r.tags.clone();
            next.extend(tags);
            if next.len() > 50 {
                return Err(Error::LimitExceeded(format!(
                    "Firehose {} cannot have more than 50 tags.",
                    r.name
                )));
            }
            r.tags = next;
            Ok(())
        })
        .await
    }

    /// UntagDeliveryStream.
    pub async fn untag(&self, name: &str, keys: Vec<String>) -> Result<()> {
        self.modify(name, move |r| {
            for k in &keys {
                r.tags.remove(k);
            }
            Ok(())
        })
        .await
    }

    /// StartDeliveryStreamEncryption (takes effect at once: ENABLED).
    pub async fn start_encryption(
        &self,
        name: &str,
        key: Option<(String, Option<String>)>,
    ) -> Result<()> {
        let now = self.now_ms();
        if let Some((t, a)) = &key {
            check_key(t, a.as_deref())?;
        }
        self.modify(name, move |r| {
            encryption_call(r, now)?;
            if r.source == SourceKind::KinesisStreamAsSource {
                return Err(invalid(format!(
                    "Firehose {} is KinesisStreamAsSource: server-side encryption is not \
                     supported for it.",
                    r.name
                )));
            }
            let (key_type, key_arn) = key.unwrap_or_else(|| ("AWS_OWNED_CMK".to_owned(), None));
            r.encryption = Encryption {
                key_type: Some(key_type),
                key_arn,
                status: "ENABLED".to_owned(),
            };
            Ok(())
        })
        .await
    }

    /// StopDeliveryStreamEncryption (takes effect at once: DISABLED).
    pub async fn stop_encryption(&self, name: &str) -> Result<()> {
        let now = self.now_ms();
        self.modify(name, move |r| {
            encryption_call(r, now)?;
            r.encryption = Encryption {
                key_type: None,
                key_arn: None,
                status: "DISABLED".to_owned(),
            };
            Ok(())
        })
        .await
    }

    /// A Kinesis source must name a stream that exists (in any status: AWS accepts a stream
    /// still being created and reads it once it is ACTIVE). AWS answers
    /// InvalidArgumentException; its exact message is not documented, so this one carries
    /// the Kinesis wording. Without the Kinesis peer (a Firehose opened on its own, in
    /// tests) nothing can be checked, and delivery reports the missing stream instead.
    fn check_source_stream(&self, arn: &str) -> Result<()> {
        let Some(streams) = self.peers().streams else {
            return Ok(());
        };
        let sref = freshet_kinesis::StreamRef {
            name: None,
            arn: Some(arn.to_owned()),
        };
        match streams.describe_stream_summary(&sref) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == freshet_kinesis::ErrorKind::ResourceNotFound => {
                Err(invalid(e.to_string()))
            }
            Err(e) => Err(Error::Storage(e.to_string())),
        }
    }
}

/// Start and Stop share AWS's limit of 25 calls per stream per 24 hours.
fn encryption_call(r: &mut StreamRecord, now: i64) -> Result<()> {
    r.encryption_calls.retain(|t| now - t < 86_400_000);
    if r.encryption_calls.len() >= 25 {
        return Err(Error::LimitExceeded(format!(
            "You have exceeded the limit of 25 StartDeliveryStreamEncryption and \
             StopDeliveryStreamEncryption calls for {} in 24 hours.",
            r.name
        )));
    }
    r.encryption_calls.push(now);
    Ok(())
}

fn check_key(key_type: &str, key_arn: Option<&str>) -> Result<()> {
    match (key_type, key_arn) {
        ("CUSTOMER_MANAGED_CMK", None) => Err(invalid(
            "KeyARN must be specified when KeyType is CUSTOMER_MANAGED_CMK.",
        )),
        ("AWS_OWNED_CMK", Some(_)) => Err(invalid(
            "KeyARN must not be specified when KeyType is AWS_OWNED_CMK.",
        )),
        _ => Ok(()),
    }
}

/// The destination after an update: merged into the same type, or a new destination of
/// another type (then the update must be complete).
fn merged(old: &Destination, upd: DestinationInput) -> Result<Destination> {
    match (old, upd) {
        (
            Destination::ExtendedS3(o),
            DestinationInput {
                extended_s3: Some(u),
                ..
            },
        ) => {
            let mut n = o.clone();
            n.merge(&u);
            validate::extended_s3_update(o, &n)?;
            Ok(Destination::ExtendedS3(n))
        }
        (Destination::ExtendedS3(o), DestinationInput { s3: Some(u), .. }) => {
            let mut n = o.clone();
            n.merge(&u.to_extended());
            validate::extended_s3_update(o, &n)?;
            Ok(Destination::ExtendedS3(n))
        }
        (
            Destination::HttpEndpoint(o),
            DestinationInput {
                http_endpoint: Some(u),
                ..
            },
        ) => {
            let mut n = o.clone();
            n.merge(&u);
            validate::http_endpoint(&n)?;
            Ok(Destination::HttpEndpoint(n))
        }
        (
            Destination::HttpEndpoint(_),
            DestinationInput {
                extended_s3: Some(mut u),
                ..
            },
        ) => {
            u.s3_backup_configuration = u.s3_backup_update.take();
            if u.dynamic_partitioning() {
                return Err(invalid(
                    "Dynamic partitioning can only be enabled when the delivery stream is \
                     created.",
                ));
            }
            validate::extended_s3(&u)?;
            Ok(Destination::ExtendedS3(u))
        }
        (Destination::HttpEndpoint(_), DestinationInput { s3: Some(u), .. }) => {
            validate::s3(&u)?;
            Ok(Destination::ExtendedS3(u.to_extended()))
        }
        (
            Destination::ExtendedS3(_),
            DestinationInput {
                http_endpoint: Some(mut u),
                ..
            },
        ) => {
            u.s3_configuration = u.s3_update.take();
            validate::http_endpoint(&u)?;
            Ok(Destination::HttpEndpoint(u))
        }
        (_, _) => Err(invalid("A destination update must be specified.")),
    }
}
